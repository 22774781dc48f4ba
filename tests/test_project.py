"""The generated project for real: bootstrap by the post-gen hook, its own tests, lint, build and CLI.

One bootstrapped project is shared by the whole session (the `bootstrapped` fixture); TensorFlow is
imported only by the generated test suite and by one training run.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from helpers import (
    DEFAULT_PACKAGE,
    LEGACY_FIXTURES,
    STACKS,
    bake,
    bake_cli,
    env_with_uv,
    find_python,
    lock_text,
    locked_keras,
    mac_only_keras_stacks,
    python_version_of,
    run,
)

pytestmark = pytest.mark.network  # each test installs a real stack (uv's cache makes repeats fast)

TRAIN = ["-m", f"{DEFAULT_PACKAGE}.train"]
DEFAULT_STACK = "tensorflow-macos-2.16"


def venv_python(project):
    return project / ".venv" / "bin" / "python"


# The generated suite's multi-process tests where their behaviour differs: two workers through tf-keras
# on the default (Keras 3) stack and through tf.keras on keras2-legacy; the launcher sweeps (stack-neutral)
# on the default stack only. TF 2.19 and 2.21 take the default stack's path (measured: see the README).
# `-m` replaces the generated pyproject's `-m 'not slow'`: the template suite runs the slow tests too.
MARKERS = {"tensorflow-macos-2.16": ["-m", ""], "keras2-legacy": ["-m", "not launchers"]}
SKIPPED_ELSEWHERE = ["-m", "not distributed and not launchers"]


def test_the_generated_test_suite_passes_in_its_venv(bootstrapped):
    # Right after bootstrap, nothing installed by hand: on this Keras 3 stack bootstrap installed tf-keras
    # (requirements-tf-keras.lock, --no-deps), so the two workers on localhost train together.
    listing = ["uv", "pip", "list", "--python", venv_python(bootstrapped), "--format", "json"]
    installed = run(listing, cwd=bootstrapped, env=env_with_uv())
    versions = {package["name"]: package["version"] for package in json.loads(installed.stdout)}
    assert f"tf-keras=={versions.get('tf-keras')}" in (bootstrapped / "requirements-tf-keras.lock").read_text()
    assert "tensorflow" not in versions, "tf-keras's dependency on `tensorflow` was installed: not --no-deps"
    result = run(
        [venv_python(bootstrapped), "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *MARKERS[DEFAULT_STACK]],
        cwd=bootstrapped,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]  # pytest's last line (a sweep test logs "The job failed")
    assert "passed" in summary and "failed" not in summary and "error" not in summary, summary
    assert "Metal tests need an Apple Silicon Mac" in result.stdout  # skipped, with the reason
    two_workers = "test_two_workers_on_localhost_train_together_and_end_with_identical_weights"
    assert f"PASSED tests/test_distribute.py::{two_workers}" in result.stdout  # through tf-keras from bootstrap


def test_training_writes_its_artifacts_on_the_cpu(bootstrapped, tmp_path):
    run_dir = tmp_path / "run"
    command = [venv_python(bootstrapped), *TRAIN, "trainer.epochs=2", "device.check_numerics=true"]
    result = run([*command, f"hydra.run.dir={run_dir}"], cwd=bootstrapped)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_dir / "model.keras").stat().st_size > 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["device"] == "cpu" and metrics["device_string"].endswith("CPU:0")
    assert metrics["epochs"] == 2 and metrics["versions"]["tensorflow"] == "2.16.2"
    assert metrics["versions"]["tensorflow-metal"] is None
    assert metrics["wall_time_seconds"] > 0 and metrics["resumed_from_epoch"] == 0
    assert {"history.csv", "loss_curve.png", "checkpoints", "tensorboard"} <= {p.name for p in run_dir.iterdir()}
    # the numerics check, end to end from the command line: the CPU against a second logical CPU
    numerics = metrics["numerics"]
    assert numerics["ran"] and numerics["passed"] and numerics["target"] == "/CPU:1", numerics
    assert "Numerics: /CPU:1 agrees with /CPU:0" in result.stdout + result.stderr

    again = run([venv_python(bootstrapped), *TRAIN, "trainer.epochs=1", f"hydra.run.dir={run_dir}"], cwd=bootstrapped)
    assert again.returncode == 1 and "already holds" in again.stderr
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics, "an earlier run was overwritten"


def test_a_bad_csv_fails_with_one_line_naming_the_file_and_the_column(bootstrapped, tmp_path):
    table = tmp_path / "houses.csv"
    table.write_text("rooms,area,price\n3,70,high\nthree,90,low\n")
    result = run(
        [
            venv_python(bootstrapped),
            *TRAIN,
            "data=csv",
            f"data.path={table}",
            "data.target=price",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        cwd=bootstrapped,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {table} column 'rooms' has a non-numeric value 'three' on line 3; feature columns must be numbers "
        "(leave it out with data.features=[...])."
    ]


def test_device_metal_off_a_mac_fails_with_one_clear_line(bootstrapped, tmp_path):
    result = run([venv_python(bootstrapped), *TRAIN, "device=metal", f"hydra.run.dir={tmp_path}"], cwd=bootstrapped)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: device=metal needs an Apple Silicon Mac with tensorflow-metal; this machine is Linux x86_64. "
        "Use device=auto (CUDA or CPU here) or device=cpu."
    ]


def test_lint_passes(bootstrapped):
    for command in (["check", "."], ["format", "--check", "."]):
        result = run([venv_python(bootstrapped), "-m", "ruff", *command], cwd=bootstrapped)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_wheel_carries_the_configs_and_the_stack_table(bootstrapped, tmp_path):
    result = run(["uv", "build", "--wheel", "--out-dir", tmp_path], cwd=bootstrapped, env=env_with_uv())
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for part in (
        "runtime/stack.json",
        "conf/__init__.py",
        "conf/schema.py",
        "conf/train.yaml",
        "conf/device/metal.yaml",
        "conf/optimizer/sgd.yaml",
        "conf/experiment/seed.yaml",
        "conf/callbacks/default.yaml",
        "conf/data/csv.yaml",
        "conf/distribute/multi_worker.yaml",
    ):
        assert f"{DEFAULT_PACKAGE}/{part}" in names


def test_bootstrap_runs_again_safely(bootstrapped):
    marker = bootstrapped / ".venv" / "kept-by-rerun"
    marker.write_text("the venv must be reused, not rebuilt")
    result = run([venv_python(bootstrapped), "bootstrap.py"], cwd=bootstrapped, env=env_with_uv())
    assert result.returncode == 0, result.stderr
    assert "reusing .venv" in result.stdout and marker.exists()


def test_bootstrap_ended_with_a_healthy_doctor(bootstrapped_output):
    assert "verdict: healthy: expected cpu" in bootstrapped_output


def test_tensorflow_is_compiled_though_bootstrap_ran_where_python_writes_no_bytecode(bootstrapped, bootstrapped_output):
    """conftest bootstraps with PYTHONDONTWRITEBYTECODE=1: uv compiled every module of TensorFlow's package at
    install, so no process importing it compiles it again, and the closing doctor had nothing to say about it."""
    (package,) = (bootstrapped / ".venv" / "lib").glob("python3*/site-packages/tensorflow")
    sources = {path.parent / path.stem for path in package.rglob("*.py")}
    compiled = {path.parent.parent / path.name.split(".")[0] for path in package.rglob("__pycache__/*.pyc")}
    assert sources and not sources - compiled, sorted(sources - compiled)[:5]
    assert "PYTHONDONTWRITEBYTECODE is set" not in bootstrapped_output


def test_the_venv_is_built_on_a_real_interpreter_not_a_throwaway_env(bootstrapped_output):
    # cookiecutter may run inside a tool's temporary venv (uvx, uv run): .venv must not depend on it.
    chosen = re.search(r"; Python [\d.]+ at (.+?); installer", bootstrapped_output).group(1)
    assert not (Path(chosen).parent.parent / "pyvenv.cfg").exists(), chosen


# The experimental stack is the only one for Python 3.13: it is tried there (when this machine has one).
# A stack without TensorFlow (keras-torch) has its own module, test_torch_project.py.
OTHER_STACKS = [
    (stack_id, "3.13" if "3.13" in stack["python"] and find_python("3.13") else "3.11")
    for stack_id, stack in STACKS["stacks"].items()
    if stack_id != "tensorflow-macos-2.16" and stack["tensorflow"]
]


@pytest.mark.parametrize(("stack_id", "python"), OTHER_STACKS)
@pytest.mark.installs_a_stack
def test_every_other_stack_bootstraps_and_its_tests_pass(tmp_path, stack_id, python):
    result = bake_cli(
        tmp_path, "bootstrap=auto", f"tensorflow_stack={stack_id}", f"python_version={python}", env=env_with_uv()
    )
    project = tmp_path / "keras-metal-project"
    assert "verdict: healthy" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]
    markers = MARKERS.get(stack_id, SKIPPED_ELSEWHERE)
    tests = run([venv_python(project), "-m", "pytest", "-q", "-p", "no:cacheprovider", *markers], cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "Metal tests need an Apple Silicon Mac" in tests.stdout
    assert python_version_of(str(venv_python(project))) == tuple(map(int, python.split(".")))


@pytest.mark.skipif(find_python("3.13") is None, reason="needs a python3.13 to run bootstrap.py with")
@pytest.mark.installs_a_stack
def test_bootstrap_from_python_313_picks_a_supported_python_and_repairs_numpy_2(tmp_path):
    project = bake(tmp_path)
    result = run([find_python("3.13"), "bootstrap.py", "--installer", "uv"], cwd=project, env=env_with_uv())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert python_version_of(str(venv_python(project))) == (3, 11)  # the project's python_version

    forced = run(
        ["uv", "pip", "install", "--python", venv_python(project), "numpy==2.1.3"], cwd=project, env=env_with_uv()
    )
    assert forced.returncode == 0, forced.stderr
    doctor = run([venv_python(project), "-m", f"{DEFAULT_PACKAGE}.doctor"], cwd=project)
    assert doctor.returncode == 1
    verdict = doctor.stdout.strip().splitlines()[-1]
    assert verdict.startswith("verdict: PROBLEM (numpy): 2.1.3 is not numpy<2") and "bootstrap.py" in verdict

    repaired = run([find_python("3.13"), "bootstrap.py"], cwd=project, env=env_with_uv())
    assert repaired.returncode == 0 and "verdict: healthy" in repaired.stdout, repaired.stderr[-2000:]


@pytest.mark.installs_a_stack
def test_the_pip_installer_installs_the_locked_stack_too(tmp_path):
    result = bake_cli(tmp_path, "bootstrap=pip", env=env_with_uv())
    project = tmp_path / "keras-metal-project"
    assert "installer pip" in result.stdout and "verdict: healthy" in result.stdout, result.stderr[-3000:]
    assert (project / ".venv" / "bin" / "pip").exists()
    check = run([venv_python(project), "-m", "pip", "show", "tensorflow-cpu"], cwd=project)
    assert "Version: 2.16.2" in check.stdout


def test_a_failed_install_keeps_the_project_and_says_how_to_retry(tmp_path):
    env = env_with_uv() | {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
    legacy = shutil.copytree(LEGACY_FIXTURES / "tf1_graph", tmp_path / "tf1 legacy")  # answers are Jinja-rendered
    result = bake_cli(tmp_path / "out", "bootstrap=uv", f"legacy_project={legacy}", env=env)
    project = tmp_path / "out" / "keras-metal-project"
    assert result.returncode == 0, "the hook must not fail, or cookiecutter deletes the project"
    assert (project / "pyproject.toml").exists() and (project / "bootstrap.py").exists()
    assert "installing the locked stack (hashes checked) failed" in result.stderr
    assert "python3 bootstrap.py" in result.stderr and "was generated in" in result.stderr
    # the migration needs the .venv: it is not run, and the hook says how to run it later
    assert "The legacy project was not analysed" in result.stdout
    assert f"-m {DEFAULT_PACKAGE}.migrate '{legacy}'" in result.stdout and not (project / "migration").exists()


def test_a_pip_install_failure_is_reported_too(tmp_path):
    project = bake(tmp_path)
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": "/dev/null"}
    result = run(
        [find_python("3.11") or "python3", "bootstrap.py", "--installer", "pip"], cwd=project, env=env_with_uv() | env
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: installing the locked stack (hashes checked) failed: the package index cannot be reached (no "
        "network, a proxy, or an index setting such as UV_INDEX_URL / PIP_INDEX_URL): reconnect or fix the setting. "
        f"The project is kept; then finish the set-up with: cd {project} && python3 bootstrap.py"
    ]
    assert (project / ".venv" / "bin" / "pip").exists()  # pip's own venv, not uv's


def hashed_entry(text: str, name: str, version: str) -> str:
    """The lock's entry for name==version with its hashes and without its marker: installable here."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}=={version} "))
    hashes = itertools.takewhile(lambda line: line.startswith("    --hash="), lines[start + 1 :])
    return " ".join([f"{name}=={version}", *(line.strip(" \\") for line in hashes)])


# The generated checks of the installed environment against the lock: with the Mac's Keras over the Linux
# lock they must fail, naming exactly that difference.
LOCK_CHECKS = {
    "tests/test_doctor.py::test_this_environment_is_healthy",
    "tests/test_stack.py::test_this_environment_has_exactly_the_pinned_tensorflow_packages",
}


@pytest.mark.parametrize("stack_id", mac_only_keras_stacks())
@pytest.mark.installs_a_stack
def test_the_generated_suite_passes_with_the_apple_silicon_keras(tmp_path, stack_id):
    """What Mac users run, less the Metal plug-in: the stack's Linux lock with the Keras its lock pins for
    Apple Silicon installed over it (hash-checked, from the lock's own entry; its dependencies are the Linux
    lock's), then the generated suite as for the other stacks. Only the lock checks fail, each naming that
    Keras."""
    mac_keras = locked_keras(stack_id, "apple_silicon")
    project = bake(tmp_path, tensorflow_stack=stack_id)
    (tmp_path / "mac-keras.txt").write_text(hashed_entry(lock_text(stack_id), "keras", mac_keras) + "\n")
    env = env_with_uv()
    python = venv_python(project)
    for command in (
        ["uv", "venv", "--python", "3.11", ".venv"],
        ["uv", "pip", "install", "--python", python, "--require-hashes", "-r", "requirements.lock"],
        ["uv", "pip", "install", "--python", python, "--require-hashes", "--no-deps", "-r", tmp_path / "mac-keras.txt"],
        ["uv", "pip", "install", "--python", python, "--no-deps", "-e", "."],
    ):
        result = run(command, cwd=project, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
    report = tmp_path / "report.xml"
    tests = run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SKIPPED_ELSEWHERE, f"--junitxml={report}"],
        cwd=project,
    )
    failed = {
        f"tests/{case.get('classname').rsplit('.', 1)[-1]}.py::{case.get('name')}": failure.get("message", "")
        for case in ElementTree.parse(report).iter("testcase")  # noqa: S314 - the report pytest just wrote
        for failure in case.findall("failure") + case.findall("error")
    }
    assert tests.returncode == 1 and set(failed) == LOCK_CHECKS, tests.stdout[-4000:] + tests.stderr[-2000:]
    linux_keras = locked_keras(stack_id, "linux_x86_64")
    for message in failed.values():
        assert f"{mac_keras} is not keras=={linux_keras}" in message, message
    assert "Metal tests need an Apple Silicon Mac" in tests.stdout


def test_the_first_commit_holds_the_generated_files_and_never_the_venv(bootstrapped):
    """git_init=yes (the default) committed before bootstrap: .venv and what bootstrap and the migration
    wrote are not in the commit, and .venv is ignored, not shown as new."""
    tracked = run(["git", "ls-files"], cwd=bootstrapped).stdout.splitlines()
    assert "pyproject.toml" in tracked and "LICENSE" in tracked and "requirements.lock" in tracked
    assert not [name for name in tracked if name.startswith((".venv/", "migration/"))]
    ignored = run(["git", "status", "--porcelain", "--ignored"], cwd=bootstrapped).stdout.splitlines()
    assert "!! .venv/" in ignored
    assert [line for line in ignored if not line.startswith("!!")] == ["?? migration/"]
