"""bootstrap.py's faults, each simulated on a baked project whose lock pins tiny fake wheels served from a
local folder or a local HTTP index (no real stack, no TensorFlow: the doctor is replaced by a fake one, as
it is tested with the real stack in test_project.py). Each fault must end in exactly one `error:` line on
stderr saying what happened and what to do, keep the project, and a re-run once it is fixed must complete.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from fakes import LocalIndex, fake_lock
from helpers import DEFAULT_PACKAGE, bake, env_with_uv, find_python

PYTHON = find_python("3.11")  # the project's python_version: bootstrap builds .venv on it
pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a python3.11")

FAKE_DOCTOR = 'print("verdict: healthy (the fake doctor of the fault tests)")\n'
PINS = {"fake-alpha": "1.0", "fake-beta": "2.0"}


def retry_hint(project: Path) -> str:
    return f" The project is kept; then finish the set-up with: cd {project} && python3 bootstrap.py"


def faked(tmp_path: Path, **answers: str) -> Path:
    """A project (not bootstrapped) whose lock pins fake wheels in tmp_path/packages."""
    project = bake(tmp_path / "out", **answers)
    packages = tmp_path / "packages"
    packages.mkdir()
    (project / "requirements.lock").write_text(fake_lock(packages, PINS))
    # the faults are the base lock's: installed alone (a torch stack has no tf-keras lock)
    (project / "requirements-tf-keras.lock").unlink(missing_ok=True)
    (project / "src" / DEFAULT_PACKAGE / "doctor.py").write_text(FAKE_DOCTOR)
    return project


@pytest.fixture
def project(tmp_path):
    """The default project, faked (above)."""
    return faked(tmp_path)


def offline_env(project: Path, **extra: str) -> dict:
    """uv and pip reach only the local folder of fake wheels (the project's build backend comes from uv's cache)."""
    packages = project.parents[1] / "packages"
    env = env_with_uv() | {"UV_NO_INDEX": "1", "UV_FIND_LINKS": str(packages)}
    env |= {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(packages)}
    return env | extra


def bootstrap(project: Path, *args: str, env: dict | None = None, python: str | None = None):
    return subprocess.run(
        [python or PYTHON, "bootstrap.py", *args],
        cwd=project,
        env=env or offline_env(project),
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_completes(project: Path, *args: str, env: dict | None = None) -> str:
    result = bootstrap(project, *args, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert result.stderr == "" and "verdict: healthy" in result.stdout
    assert (project / ".venv" / "bootstrap-complete").exists()
    return result.stdout


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# pip's side of this (no index at all) is test_project.py's test_a_pip_install_failure_is_reported_too
def test_an_unreachable_index_is_named_and_a_rerun_completes(project):
    nowhere = f"http://127.0.0.1:{closed_port()}/"
    no_retries = {"UV_HTTP_RETRIES": "0", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}  # refused at once: no waiting
    env = offline_env(project, UV_FIND_LINKS=nowhere, PIP_FIND_LINKS=nowhere, **no_retries)
    result = bootstrap(project, "--installer", "uv", env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: installing the locked stack (hashes checked) failed: the package index cannot be reached (no "
        "network, a proxy, or an index setting such as UV_INDEX_URL / PIP_INDEX_URL): reconnect or fix the setting."
        + retry_hint(project)
    ], result.stdout[-2000:]
    assert (project / "pyproject.toml").exists()
    assert "rebuilding .venv: an earlier set-up did not finish" in assert_completes(project)


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_tampered_lock_says_the_download_differs_and_a_restored_one_completes(project, installer):
    lock = project / "requirements.lock"
    honest = lock.read_text()
    real_hash = honest.split("--hash=sha256:")[2].split()[0]  # fake-beta's
    lock.write_text(honest.replace(real_hash, "0" * 64))
    result = bootstrap(project, "--installer", installer)
    assert result.returncode == 1
    which = " (fake-beta==2.0)" if installer == "uv" else ""
    assert result.stderr.splitlines() == [
        f"error: installing the locked stack (hashes checked) failed: a download differs from requirements.lock "
        f"(hash mismatch{which}), so nothing from it was installed. If you edited requirements.lock, restore it "
        "(`git checkout requirements.lock`); if the index serves a different file, regenerate the lock on purpose "
        "(`make lock`)." + retry_hint(project)
    ], result.stdout[-2000:]
    check = subprocess.run(
        [project / ".venv" / "bin" / "python", "-c", "import fake_alpha"], capture_output=True, cwd=project
    )
    assert check.returncode == 1, "pip and uv check every hash before installing anything"
    if installer == "uv":
        lock.write_text(honest)
        assert_completes(project)


@pytest.mark.parametrize(
    ("stack_id", "framework", "name"),
    [("tensorflow-macos-2.16", "tensorflow", "TensorFlow"), ("keras-torch", "torch", "PyTorch")],
)
def test_the_framework_gets_bytecode_where_python_writes_none_and_a_rerun_compiles_an_older_venv(
    tmp_path, stack_id, framework, name
):
    """With PYTHONDONTWRITEBYTECODE=1 only the installer writes .pyc files; a .venv an earlier bootstrap filled
    without them (uv before --compile-bytecode) gets the stack reinstalled, with bytecode, by a re-run. The stack's
    framework is what counts: TensorFlow, or torch on keras-torch (a fake wheel of that name). (pip cannot install
    the project offline here; its flags are checked in test_options.py.)"""
    project = faked(tmp_path, tensorflow_stack=stack_id)
    (project / "requirements.lock").write_text(fake_lock(project.parents[1] / "packages", PINS | {framework: "0.1"}))
    env = offline_env(project, PYTHONDONTWRITEBYTECODE="1")
    assert "reinstalling" not in assert_completes(project, "--installer", "uv", env=env)
    cache = project / ".venv" / "lib" / "python3.11" / "site-packages" / framework / "__pycache__"
    assert list(cache.glob("__init__.cpython-311*.pyc")), f"{name}'s package was installed without bytecode"
    shutil.rmtree(cache)
    out = assert_completes(project, "--installer", "uv", env=env)
    assert f"{name} in .venv has no compiled bytecode: reinstalling the locked stack to compile it" in out
    assert list(cache.glob("__init__.cpython-311*.pyc"))


def installer_child(pid: int) -> int:
    """The process bootstrap.py runs the install in (Linux /proc: the template's suite runs on Linux)."""
    (child,) = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(child)


def killed_mid_install(project: Path, tmp_path: Path, kill) -> subprocess.CompletedProcess:
    """Bootstrap with one locked wheel held back by a local HTTP index; once the installer is downloading it,
    kill(bootstrap's Popen) does the damage. The held wheel has a version of its own, so no cache has it."""
    held = f"{time.time_ns() % 10**9}"
    served = tmp_path / "served"
    served.mkdir()
    (project / "requirements.lock").write_text(fake_lock(served, PINS | {"fake-held": f"1.0.{held}"}))
    with LocalIndex(served, held=(f"fake_held-1.0.{held}-py3-none-any.whl",)) as index:
        process = subprocess.Popen(
            [PYTHON, "bootstrap.py"],
            cwd=project,
            env=offline_env(project, UV_FIND_LINKS=index.url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a terminal gives a command
        )
        assert index.requested.wait(timeout=120), "the installer never asked for the held wheel"
        kill(process)
        stdout, stderr = process.communicate(timeout=60)
    shutil.copytree(served, project.parents[1] / "packages", dirs_exist_ok=True)  # the re-run's folder has it all
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the installer through /proc")


def test_ctrl_c_mid_install_ends_in_one_line_and_a_rerun_completes(project, tmp_path):
    result = killed_mid_install(project, tmp_path, lambda process: os.killpg(process.pid, signal.SIGINT))
    assert result.returncode == 130
    assert result.stderr.splitlines() == [
        "error: interrupted (Ctrl-C); a half-installed .venv is rebuilt by the next run." + retry_hint(project)
    ]
    assert "rebuilding .venv: an earlier set-up did not finish" in assert_completes(project)


@needs_proc
def test_an_installer_killed_with_sigkill_is_reported_by_bootstrap_and_a_rerun_completes(project, tmp_path):
    result = killed_mid_install(
        project, tmp_path, lambda process: os.kill(installer_child(process.pid), signal.SIGKILL)
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: installing the locked stack (hashes checked) was stopped: the process was killed by SIGKILL, so "
        ".venv is half-installed; the next run rebuilds it." + retry_hint(project)
    ]
    assert "rebuilding .venv: an earlier set-up did not finish" in assert_completes(project)


def test_bootstrap_itself_killed_with_sigkill_leaves_a_state_the_rerun_completes_from(project, tmp_path):
    result = killed_mid_install(project, tmp_path, lambda process: os.killpg(process.pid, signal.SIGKILL))
    assert result.returncode == -signal.SIGKILL
    assert (project / ".venv").exists() and not (project / ".venv" / "bootstrap-complete").exists()
    assert "rebuilding .venv: an earlier set-up did not finish" in assert_completes(project)


def test_a_killed_rerun_into_a_finished_venv_is_not_taken_for_finished(project, tmp_path):
    assert_completes(project)
    result = killed_mid_install(project, tmp_path, lambda process: os.killpg(process.pid, signal.SIGKILL))
    assert result.returncode == -signal.SIGKILL and "reusing .venv" in result.stdout
    assert "rebuilding .venv: an earlier set-up did not finish" in assert_completes(project)


def test_a_venv_whose_python_was_removed_is_rebuilt(project):
    assert_completes(project)
    python = project / ".venv" / "bin" / "python"
    python.unlink()
    python.symlink_to("/nonexistent/python3.11")  # the interpreter it was made with was uninstalled
    out = assert_completes(project)
    assert "rebuilding .venv: its Python is gone" in out and "/nonexistent/python3.11, which no longer exists" in out
    assert python.resolve().exists()


@pytest.mark.skipif(find_python("3.12") is None, reason="needs a python3.12 to upgrade to")
def test_a_venv_whose_python_was_upgraded_underneath_it_is_rebuilt_not_installed_into(project):
    assert_completes(project)
    python = project / ".venv" / "bin" / "python"
    python.unlink()
    python.symlink_to(find_python("3.12"))  # e.g. Homebrew's python3 moved from 3.11 to 3.12
    out = assert_completes(project, "--python", find_python("3.12"))
    assert "rebuilding .venv: it was made with Python 3.11 and its Python is now 3.12" in out
    assert "version_info = 3.12" in (project / ".venv" / "pyvenv.cfg").read_text()
    assert list((project / ".venv" / "lib").iterdir()) == [project / ".venv" / "lib" / "python3.12"]


def test_a_read_only_project_folder_is_named_with_the_fix(tmp_path):
    """Root writes through permission bits, so as root the check runs as `nobody` (setpriv) on a project in a
    folder `nobody` can read."""
    as_root = os.geteuid() == 0
    if as_root and not (shutil.which("setpriv") and Path("/usr/bin/python3").exists()):
        pytest.skip("needs setpriv and /usr/bin/python3 to run as another user")
    base = Path(tempfile.mkdtemp(prefix="read-only-"))
    try:
        base.chmod(0o755)
        project = bake(base)
        project.chmod(0o555)
        user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if as_root else []
        python = "/usr/bin/python3" if as_root else PYTHON  # nobody cannot reach root's pyenv
        result = subprocess.run(
            [*user, python, "bootstrap.py"], cwd=project, capture_output=True, text=True, env=env_with_uv()
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.splitlines() == [
            f"error: the project folder {project} is read-only (Permission denied), and .venv must be created in "
            f"it: make it writable (`chmod -R u+w {project}`) or copy the project to a folder you can write."
            + retry_hint(project)
        ]
        project.chmod(0o755)
        (project / "requirements.lock").write_text(fake_lock(base, PINS))
        (project / "requirements-tf-keras.lock").unlink()
        (project / "src" / DEFAULT_PACKAGE / "doctor.py").write_text(FAKE_DOCTOR)
        packages = {"UV_NO_INDEX": "1", "UV_FIND_LINKS": str(base)}
        assert_completes(project, env=env_with_uv() | packages)
    finally:
        shutil.rmtree(base)


def test_uv_asked_for_but_missing_is_one_line_and_a_rerun_with_uv_completes(project):
    no_uv = offline_env(project, PATH=os.pathsep.join(["/usr/bin", "/bin"]))
    assert shutil.which("uv", path=no_uv["PATH"]) is None
    # not this test run's interpreter, which has the uv package (bootstrap.py finds uv there too)
    python = getattr(sys, "_base_executable", sys.executable)
    if subprocess.run([python, "-c", "import uv"], capture_output=True).returncode == 0:
        pytest.skip(f"{python} has the uv package")
    result = bootstrap(project, "--installer", "uv", env=no_uv, python=python)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: uv was asked for (bootstrap=uv, or --installer uv) but is not installed: install it (`brew install "
        "uv` or `pipx install uv`), or use pip (bootstrap=pip, or --installer pip)." + retry_hint(project)
    ]
    assert not (project / ".venv").exists()
    assert_completes(project, "--installer", "uv")


def test_accelerator_cuda_on_the_torch_stack_says_why_in_one_line_and_installs_the_one_lock(tmp_path):
    """PyPI's torch wheels for Linux carry CUDA: the torch stack has no CUDA lock, so `--accelerator cuda` installs
    requirements.lock (here its fake wheels) after one line saying so, instead of failing for want of a CUDA lock."""
    project = faked(tmp_path, tensorflow_stack="keras-torch")
    assert not (project / "requirements-cuda.lock").exists()
    out = assert_completes(project, "--installer", "uv", "--accelerator", "cuda")
    assert (
        "bootstrap: CUDA: PyTorch's Linux wheels carry CUDA themselves, so requirements.lock is installed (there is "
        "no separate CUDA lock); torch uses a visible NVIDIA GPU and the CPU otherwise\n"
    ) in out
    assert "lock requirements.lock" in out
    check = subprocess.run([project / ".venv" / "bin" / "python", "-c", "import fake_alpha, fake_beta"], cwd=project)
    assert check.returncode == 0
