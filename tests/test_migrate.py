"""The migration tool in the shared bootstrapped project: at generation (legacy_project), the uv check
online and offline, and --apply through TensorFlow's own tf_upgrade_v2 (one TensorFlow import).

The analysis itself (exact findings, dependency actions, refusals, the LibCST fixes, a migrated copy
that trains) is tested by the generated project's own suite, which test_project.py runs per stack.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess

import pytest
from helpers import (
    COOKIECUTTER_JSON,
    DEFAULT_PACKAGE,
    LEGACY_FIXTURES,
    STACKS,
    TEMPLATE,
    env_with_uv,
    lock_entries,
    run,
)

pytestmark = pytest.mark.network

MIGRATE = ["-m", f"{DEFAULT_PACKAGE}.migrate"]
UV_PLATFORMS = {
    "apple_silicon": "aarch64-apple-darwin",
    "intel_mac": "x86_64-apple-darwin",
    "linux_x86_64": "x86_64-unknown-linux-gnu",
    "linux_aarch64": "aarch64-unknown-linux-gnu",
}


def venv_python(project):
    return project / ".venv" / "bin" / "python"


def tree_hash(root) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def migrate_json(project, legacy, out, env, *extra):
    result = run([venv_python(project), *MIGRATE, legacy, "--out", out, "--json", *extra], cwd=project, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_the_post_gen_hook_analysed_the_legacy_project(bootstrapped, bootstrapped_output):
    report = (bootstrapped / "migration" / "MIGRATION.md").read_text(encoding="utf-8")
    assert "## Recommended stack: `keras2-legacy`" in report
    assert "tensorflow_stack=keras2-legacy" in report  # the project was made for another stack
    assert "Resolution check for macOS arm64, Python 3.11: **relaxed**" in report  # uv was on PATH
    assert (bootstrapped / "migration" / "requirements.txt").read_text().startswith("tensorflow-macos==2.15.0")
    assert "recommended stack: keras2-legacy" in bootstrapped_output


def test_online_the_requirements_are_checked_and_unresolvable_pins_relaxed(bootstrapped, tmp_path):
    result = migrate_json(bootstrapped, LEGACY_FIXTURES / "keras24_gpu", tmp_path / "out", env_with_uv())
    check = result["requirements_check"]
    assert check["status"] == "relaxed"
    # scikit-learn 0.24.2 has no wheel for Python 3.11 on macOS arm64 (only an sdist that would have to compile)
    assert [(c["before"], c["after"]) for c in check["changes"]] == [("scikit-learn==0.24.2", "scikit-learn")]
    assert "scikit-learn" in result["requirements"] and "scikit-learn==0.24.2" not in result["requirements"]
    sklearn = next(d for d in result["dependencies"] if d["name"] == "scikit-learn")
    assert sklearn["action"] == "replace" and "did not resolve" in sklearn["note"]


@pytest.mark.parametrize("offline", ["UV_OFFLINE", "no uv on PATH"])
def test_offline_the_check_is_skipped_and_said_so(bootstrapped, tmp_path, offline):
    if offline == "UV_OFFLINE":
        env = env_with_uv() | {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
        expected = "uv is offline (UV_OFFLINE)"
    else:
        env = env_with_uv() | {"PATH": str(tmp_path / "no-bin")}
        expected = "uv is not on PATH"
    result = migrate_json(bootstrapped, LEGACY_FIXTURES / "conda_macos29", tmp_path / "out", env)
    assert result["requirements_check"]["status"] == "skipped"
    assert expected in result["requirements_check"]["detail"]
    report = (tmp_path / "out" / "MIGRATION.md").read_text(encoding="utf-8")
    assert "**skipped**" in report and expected in report


def test_apply_upgrades_tf1_code_with_tf_upgrade_v2_and_leaves_the_legacy_tree_alone(bootstrapped, tmp_path):
    legacy = LEGACY_FIXTURES / "tf1_graph"
    before = tree_hash(legacy)
    copy = tmp_path / "tf1 migrated"
    env = env_with_uv() | {"PATH": str(tmp_path / "no-bin")}  # offline: only the apply is under test here
    result = migrate_json(bootstrapped, legacy, tmp_path / "out", env, "--apply", copy)
    assert tree_hash(legacy) == before, "the legacy tree was modified"
    train = (copy / "train.py").read_text(encoding="utf-8")
    assert "tf.compat.v1.Session(config=config)" in train and "tf.compat.v1.placeholder(" in train
    assert "tf.compat.v1.get_variable(" in (copy / "model.py").read_text(encoding="utf-8")
    # the Python 2 leftover is copied unchanged (it does not parse), and said so
    assert (copy / "scripts" / "export_weights.py").read_bytes() == (legacy / "scripts/export_weights.py").read_bytes()
    (failed,) = result["applied"]["not_upgraded"]
    assert failed["path"] == "scripts/export_weights.py" and failed["tool"] == "LibCST fixes"
    assert sorted(result["applied"]["changed"]) == ["model.py", "train.py"]
    assert "tf.compat.v1.disable_eager_execution()" in train  # it builds a graph and runs it in a session
    # the report cites the project's paths, never the temporary folder the upgrade ran in
    upgrade_report = (tmp_path / "out" / "tf_upgrade_v2.txt").read_text(encoding="utf-8")
    assert upgrade_report.startswith(("model.py:", "train.py:")) and str(tmp_path.parent.parent) not in upgrade_report
    assert all(line.startswith(("model.py:", "train.py:", "    ")) for line in upgrade_report.splitlines())
    report = (tmp_path / "out" / "MIGRATION.md").read_text(encoding="utf-8")
    assert "+    with tf.compat.v1.Session(config=config) as sess:" in report


def test_migrated_legacy_scripts_run_here(bootstrapped, tmp_path):
    """The runnable corpus (a TF1 graph-mode regression, a Keras 2.3 MLP, a TF1 notebook, and a file
    tf_upgrade_v2 cannot parse): the originals fail in the project's .venv, the migrated copies run to
    completion there (all in one process: TensorFlow is imported once)."""
    legacy = LEGACY_FIXTURES / "runnable"
    copy = tmp_path / "runnable migrated"
    env = env_with_uv() | {"PATH": str(tmp_path / "no-bin")}  # offline: only the apply is under test here
    result = run(
        [venv_python(bootstrapped), *MIGRATE, legacy, "--out", tmp_path / "out", "--apply", copy], bootstrapped, env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 not upgraded, copied unchanged: tf1_slices.py" in result.stdout
    assert (copy / "tf1_slices.py").read_bytes() == (legacy / "tf1_slices.py").read_bytes()
    report = (tmp_path / "out" / "MIGRATION.md").read_text(encoding="utf-8")
    assert "- `tf1_slices.py`: tf_upgrade_v2: AnnotationError" in report
    notebook = json.loads((copy / "tf1_session.ipynb").read_text(encoding="utf-8"))
    original = json.loads((legacy / "tf1_session.ipynb").read_text(encoding="utf-8"))
    assert [cell.get("outputs") for cell in notebook["cells"]] == [cell.get("outputs") for cell in original["cells"]]
    runner = """
import json, runpy, sys
import tensorflow as tf
outcome = {}
def attempt(label, script):
    try:
        script()
        outcome[label] = "ran"
    except BaseException as error:
        outcome[label] = type(error).__name__
def notebook(path):  # its code cells in order, magics and shell lines left out
    cells = json.load(open(path))["cells"]
    code = "".join("".join(c["source"]) + "\\n" for c in cells if c["cell_type"] == "code")
    exec(compile("\\n".join(l for l in code.splitlines() if not l.lstrip().startswith(("%", "!"))), path, "exec"), {})
for name in ("keras23_mlp.py", "tf1_linear_regression.py"):
    attempt("legacy " + name, lambda: runpy.run_path(sys.argv[1] + "/" + name, run_name="__main__"))
    tf.compat.v1.reset_default_graph()
    attempt("migrated " + name, lambda: runpy.run_path(name, run_name="__main__"))
attempt("migrated tf1_session.ipynb", lambda: notebook("tf1_session.ipynb"))
print(json.dumps(outcome))
"""
    ran = run([venv_python(bootstrapped), "-c", runner, legacy], copy, env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {
        "legacy keras23_mlp.py": "ModuleNotFoundError",  # keras.utils.np_utils
        "migrated keras23_mlp.py": "ran",
        "legacy tf1_linear_regression.py": "AttributeError",  # tf.placeholder
        "migrated tf1_linear_regression.py": "ran",
        "migrated tf1_session.ipynb": "ran",
    }
    assert "tf1 linear regression: loss 0.0" in ran.stdout and "tf1 notebook: [[2.]]" in ran.stdout
    assert (copy / "mlp.02.keras").stat().st_size > 0  # the checkpoint follows Keras 3's rule for full models


def test_the_api_snapshot_is_the_installed_api(bootstrapped):
    """The snapshot's TensorFlow names for this stack are the ones its TensorFlow has (apiwalk.py in .venv).
    Keras is left out, with the modules TensorFlow re-exports from it (tf.metrics, tf.losses, ...): off
    Apple Silicon the stack installs a newer Keras than its Apple Silicon pin, which the snapshot holds."""
    migrate = bootstrapped / "src" / DEFAULT_PACKAGE / "migrate"
    walked = run(
        [venv_python(bootstrapped), migrate / "apiwalk.py"], bootstrapped, env_with_uv() | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    assert walked.returncode == 0, walked.stderr[-3000:]
    here = json.loads(walked.stdout)
    snapshot = json.loads(gzip.decompress((migrate / "api_snapshot.json.gz").read_bytes()))
    stack = COOKIECUTTER_JSON["tensorflow_stack"][0]  # the bootstrapped project's, the default
    bit = list(snapshot["stacks"]).index(stack)
    assert snapshot["stacks"][stack]["tensorflow"] == here["versions"]["tensorflow"]

    from_keras = {"keras", "initializers", "losses", "metrics", "optimizers"}

    def tensorflow_only(modules: dict) -> dict:
        return {
            path: set(names)
            for path, names in modules.items()
            if path.startswith("tensorflow") and not from_keras & set(path.split("."))
        }

    stored = {
        path: {name for mask, names in entry["names"].items() if int(mask) >> bit & 1 for name in names.split()}
        for path, entry in snapshot["modules"].items()
        if entry["in"] >> bit & 1
    }
    assert tensorflow_only(stored) == tensorflow_only(here["modules"])


def test_pure_python_sdists_keep_their_pins_and_tools_go_to_the_dev_list(bootstrapped, tmp_path):
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "requirements.txt").write_text("keras-resnet==0.2.0\nwget==3.2\npytest-flake8\ncodecov\ncheck-manifest\n")
    result = migrate_json(bootstrapped, legacy, tmp_path / "out", env_with_uv())
    check = result["requirements_check"]
    assert check["status"] == "passed" and check["changes"] == []
    # no macOS arm64 wheel, but pure Python: the Mac installs them from their sdists
    assert sorted(check["pure_python_sdists"]) == ["keras-resnet==0.2.0", "wget==3.2"]
    assert {"keras-resnet==0.2.0", "wget==3.2"} <= set(result["requirements"])
    assert result["requirements-dev"] == ["pytest-flake8", "codecov", "check-manifest"]
    assert (tmp_path / "out" / "requirements-dev.txt").read_text().split() == result["requirements-dev"]


def test_the_locked_libcst_has_a_wheel_for_every_platform_and_python_of_every_stack():
    needed = set()
    for stack_id, stack in STACKS["stacks"].items():
        lock = (TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{stack_id}.txt").read_text(encoding="utf-8")
        pins = {f"libcst{req.specifier}" for req in lock_entries(lock) if req.name == "libcst"}
        needed |= {
            (pin, platform, python) for pin in pins for platform in stack["requirements"] for python in stack["python"]
        }
    for pin, platform, python in sorted(needed):
        command = ["uv", "pip", "compile", "-", "--python-platform", UV_PLATFORMS[platform]]
        command += ["--python-version", python, "--only-binary", ":all:", "--no-header", "--quiet"]
        result = subprocess.run(command, input=pin, capture_output=True, text=True, env=env_with_uv())
        assert result.returncode == 0, f"{pin} on {platform}, Python {python}: {result.stderr}"
