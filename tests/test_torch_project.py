"""The keras-torch stack for real: baked, bootstrapped by the post-gen hook with uv (torch and Keras from PyPI,
about 25 s with a warm cache), then its own generated suite, every marker, on this machine's CPU.

It shares nothing with the TensorFlow projects of test_project.py (its own project, its own xdist group), so
under `-n 2 --dist loadgroup` it runs on one worker while the other bootstraps and tests the default stack.
Nothing here is run on a Mac: MPS is tested by the generated suite's fakes, and its MPS-only tests skip here.
"""

from __future__ import annotations

import json

import pytest
from helpers import STACKS, TENSORFLOW_DISTRIBUTIONS, bake_cli, env_with_uv, run

STACK_ID = "keras-torch"
STACK = STACKS["stacks"][STACK_ID]
pytestmark = [pytest.mark.network, pytest.mark.installs_a_stack, pytest.mark.xdist_group("torch")]


@pytest.fixture(scope="module")
def torch_run(tmp_path_factory) -> tuple:
    """The project and the hook's output. PYTHONDONTWRITEBYTECODE=1 as in many shells: only the installer
    writes bytecode."""
    base = tmp_path_factory.mktemp("torch")
    env = env_with_uv() | {"PYTHONDONTWRITEBYTECODE": "1"}
    answers = (f"tensorflow_stack={STACK_ID}", "jupyter=no", "bootstrap=uv", "git_init=no")
    result = bake_cli(base, *answers, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    project = base / "keras-metal-project"
    # written by bootstrap.py once the lock and the project are installed (before its closing doctor)
    assert (project / ".venv" / "bootstrap-complete").exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return project, result.stdout + result.stderr


@pytest.fixture(scope="module")
def torch_project(torch_run):
    """The bootstrapped project with its export tools added (`make export-tools`), so that its generated suite
    exports ONNX and Core ML for real rather than skipping them."""
    project = torch_run[0]
    tools = run(["python3", "bootstrap.py", "--export-tools"], cwd=project, env=env_with_uv())
    assert tools.returncode == 0, tools.stdout[-3000:] + tools.stderr[-3000:]
    return project


def installed(project) -> dict:
    listing = ["uv", "pip", "list", "--python", project / ".venv" / "bin" / "python", "--format", "json"]
    result = run(listing, cwd=project, env=env_with_uv())
    assert result.returncode == 0, result.stderr
    return {package["name"]: package["version"] for package in json.loads(result.stdout)}


def test_the_venv_holds_the_tables_torch_and_keras_and_no_tensorflow_at_all(torch_project):
    versions = installed(torch_project)
    assert (versions["torch"], versions["keras"]) == (STACK["torch"], "3.15.1")
    assert [name for name in versions if name in TENSORFLOW_DISTRIBUTIONS or name.startswith("tensorflow")] == []
    assert "tensorboard" not in versions  # TensorBoard's callback is TensorFlow's: not in this stack
    assert not list((torch_project / ".venv" / "lib").glob("python3*/site-packages/tensorflow"))


def test_torch_is_compiled_at_install_though_python_writes_no_bytecode(torch_project):
    (package,) = (torch_project / ".venv" / "lib").glob("python3*/site-packages/torch")
    assert list((package / "__pycache__").glob("__init__.*.pyc")), "uv installed torch without --compile-bytecode"


def test_bootstrap_ended_with_a_healthy_doctor(torch_run):
    _, output = torch_run
    assert "verdict: healthy" in output, output[-3000:]


def test_the_generated_test_suite_passes_on_the_cpu(torch_project):
    """Every marker (`-m ""` replaces the project's `not slow`): the fast suite and the slow workflows, on the CPU;
    the MPS-only tests skip with the reason. Judged by pytest's last line, as test_project.py judges the others."""
    python = torch_project / ".venv" / "bin" / "python"
    result = run([python, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-m", ""], cwd=torch_project)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in summary and "failed" not in summary and "error" not in summary, summary
    assert "need an Apple Silicon Mac" in result.stdout  # the MPS tests skipped, with the reason
    assert "make export-tools" not in result.stdout  # ONNX and Core ML exported, not skipped for want of the tools
