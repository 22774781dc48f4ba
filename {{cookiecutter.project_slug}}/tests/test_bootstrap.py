"""bootstrap.py's choice of interpreter, with fake interpreters: runs everywhere, installs nothing."""

import importlib.util
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from {{ cookiecutter.package_name }}.runtime.stack import load_stack

ROOT = Path(__file__).resolve().parents[1]
TOO_NEW = "3.{}".format(int(load_stack().pythons[-1].split(".")[1]) + 1)  # newer than any the stack supports


@pytest.fixture
def bootstrap():
    spec = importlib.util.spec_from_file_location("bootstrap_under_test", ROOT / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def stack(bootstrap):
    return bootstrap.stack_info.load_stack()


@pytest.fixture
def machines(bootstrap):
    machine = bootstrap.stack_info.Machine
    return {
        "apple": machine("Darwin", "arm64", rosetta=False, macos_version="14.5"),
        "linux": machine("Linux", "x86_64", rosetta=False, macos_version=""),
        "linux_aarch64": machine("Linux", "aarch64", rosetta=False, macos_version=""),
    }


def fake_world(monkeypatch, bootstrap, running, found_by_version):
    """Interpreters are paths like /<where>/<arch>/python<X.Y>; a throwaway venv's base is under /base/."""

    def probe(path):
        *_, where, arch, name = path.split("/")
        version = tuple(int(part) for part in name.removeprefix("python").split(".")) + (0,)
        base = f"/base/{arch}/{name}" if where == "tool-venv" else path
        return version, arch, base

    monkeypatch.setattr(bootstrap.pythons, "probe", probe)
    monkeypatch.setattr(bootstrap.sys, "executable", running)

    def candidate_pythons(versions, uv):
        return [path for version in versions for path in found_by_version.get(version, [])]

    monkeypatch.setattr(bootstrap.pythons, "candidate_pythons", candidate_pythons)


def test_apple_silicon_never_takes_an_x86_64_python(bootstrap, stack, machines, monkeypatch):
    preferred = stack.preferred_python
    candidates = [f"/usr/local/x86_64/python{preferred}", f"/opt/homebrew/arm64/python{preferred}"]
    fake_world(monkeypatch, bootstrap, f"/opt/homebrew/arm64/python{TOO_NEW}", {preferred: candidates})
    assert bootstrap.choose_python(stack, machines["apple"], None, None)[2] == candidates[1]


def test_the_projects_python_version_comes_first(bootstrap, stack, machines, monkeypatch):
    other = next(v for v in stack.pythons if v != stack.preferred_python)
    preferred = f"/usr/bin/x86_64/python{stack.preferred_python}"
    fake_world(monkeypatch, bootstrap, f"/usr/bin/x86_64/python{other}", {stack.preferred_python: [preferred]})
    assert bootstrap.choose_python(stack, machines["linux"], None, None)[2] == preferred


def test_a_python_inside_a_tools_venv_yields_its_base_interpreter(bootstrap, stack, machines, monkeypatch):
    running = f"/tool-venv/x86_64/python{stack.pythons[0]}"
    fake_world(monkeypatch, bootstrap, running, {})
    assert bootstrap.choose_python(stack, machines["linux"], None, None)[2] == f"/base/x86_64/python{stack.pythons[0]}"


def test_an_unsupported_running_python_falls_back_to_another_supported_version(bootstrap, stack, machines, monkeypatch):
    fallback = f"/opt/homebrew/arm64/python{stack.pythons[0]}"
    fake_world(monkeypatch, bootstrap, f"/opt/homebrew/arm64/python{TOO_NEW}", {stack.pythons[0]: [fallback]})
    assert bootstrap.choose_python(stack, machines["apple"], None, None)[2] == fallback


def test_no_supported_python_stops_with_the_commands_to_get_one(bootstrap, stack, machines, monkeypatch):
    fake_world(monkeypatch, bootstrap, f"/opt/homebrew/arm64/python{TOO_NEW}", {})
    with pytest.raises(bootstrap.BootstrapError, match=f"uv python install {stack.preferred_python}"):
        bootstrap.choose_python(stack, machines["apple"], None, None)


def test_a_requested_python_outside_the_range_is_refused(bootstrap, stack, machines, monkeypatch):
    fake_world(monkeypatch, bootstrap, f"/opt/homebrew/arm64/python{TOO_NEW}", {})
    with pytest.raises(bootstrap.BootstrapError, match="is not a working Python"):
        bootstrap.choose_python(stack, machines["apple"], f"/opt/homebrew/arm64/python{TOO_NEW}", None)


def fake_nvidia_smi(monkeypatch, bootstrap, *, present=True, returncode=0, stdout="", raises=None):
    monkeypatch.setattr(bootstrap.locks.shutil, "which", lambda name: "/usr/bin/nvidia-smi" if present else None)

    def run(command, **kwargs):
        assert command == ["nvidia-smi", "-L"]
        if raises:
            raise raises
        return SimpleNamespace(returncode=returncode, stdout=stdout)

    return run


ONE_GPU = "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-0f3c)\n"


@pytest.mark.parametrize(
    ("fake", "listed"),
    [
        ({"stdout": ONE_GPU}, True),
        ({"stdout": ONE_GPU + ONE_GPU.replace("GPU 0", "GPU 1")}, True),
        ({"present": False}, False),  # no driver installed
        ({"returncode": 9, "stdout": "NVIDIA-SMI has failed because it couldn't communicate with the driver"}, False),
        ({"stdout": "No devices were found\n"}, False),
        ({"raises": subprocess.TimeoutExpired("nvidia-smi", 30)}, False),
        ({"raises": PermissionError("denied")}, False),
    ],
)
def test_nvidia_smi_lists_a_gpu_or_not(monkeypatch, bootstrap, fake, listed):
    run = fake_nvidia_smi(monkeypatch, bootstrap, **fake)
    assert bootstrap.locks.nvidia_gpu_listed(run) is listed


def test_auto_takes_the_cuda_lock_only_on_linux_x86_64_with_a_listed_gpu(bootstrap, machines):
    choose = bootstrap.locks.choose_accelerator
    aarch64 = bootstrap.stack_info.Machine("Linux", "aarch64", rosetta=False, macos_version="")
    assert choose("auto", machines["linux"], lambda: True) == "cuda"
    assert choose("auto", machines["linux"], lambda: False) == "cpu"
    assert choose("auto", machines["apple"], lambda: True) == "cpu"  # Metal comes with the base lock
    assert choose("auto", aarch64, lambda: True) == "cpu"
    assert choose("cpu", machines["linux"], lambda: True) == "cpu"
    assert choose("cuda", machines["linux"], lambda: False) == "cuda"  # asked for: installed without a GPU


{%- if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}


@pytest.mark.parametrize("where", ["linux", "linux_aarch64"])
def test_cuda_on_linux_installs_the_one_lock_whose_torch_carries_cuda_and_says_so(bootstrap, stack, machines, where):
    locks, entry = bootstrap.locks, bootstrap.stack_info.read_stack_file()["table"]["stacks"][stack.id]
    table = bootstrap.stack_info.read_stack_file()["table"]
    assert locks.accelerator_problem("cuda", machines[where], stack.id, table) is None
    assert locks.lock_for("cuda", entry) == locks.lock_for("cpu", entry) == locks.LOCK
    note = locks.accelerator_note("cuda", entry)
    assert "PyTorch's Linux wheels carry CUDA themselves, so requirements.lock is installed" in note
    assert "\n" not in note and locks.accelerator_note("cpu", entry) is None
    assert not locks.CUDA_LOCK.exists()


def test_cuda_on_a_mac_is_refused_in_one_line_naming_mps(bootstrap, stack, machines):
    table = bootstrap.stack_info.read_stack_file()["table"]
    problem = bootstrap.locks.accelerator_problem("cuda", machines["apple"], stack.id, table)
    assert problem.startswith("--accelerator cuda: PyTorch's CUDA builds are for Linux (x86_64, aarch64)")
    assert "on Apple Silicon PyTorch brings MPS itself" in problem and "\n" not in problem


def test_bootstrap_with_accelerator_cuda_says_why_and_installs_requirements_lock(
    bootstrap, machines, monkeypatch, capsys
):
    """bootstrap.py's main with the machine and the steps faked: the one line, then the base lock installed."""
    monkeypatch.setattr(bootstrap.stack_info, "this_machine", lambda: machines["linux"])
    monkeypatch.setattr(bootstrap, "find_uv", lambda: ["uv"])
    monkeypatch.setattr(bootstrap, "choose_python", lambda *args: ((3, 12, 0), "x86_64", "/usr/bin/python3.12"))
    installed = []
    monkeypatch.setattr(bootstrap, "ensure_venv", lambda *args: None)
    monkeypatch.setattr(bootstrap, "install", lambda installer, stack, machine, lock, tools: installed.append(lock))
    monkeypatch.setattr(bootstrap, "check", lambda: None)
    assert bootstrap.main(["--accelerator", "cuda"]) == 0
    assert installed == [bootstrap.locks.LOCK]
    out = capsys.readouterr().out
    assert "bootstrap: CUDA: PyTorch's Linux wheels carry CUDA themselves" in out and "lock requirements.lock" in out
{%- else %}


def test_the_lock_follows_the_accelerator_and_a_cuda_lock_that_cannot_be_installed_is_refused(
    bootstrap, stack, machines, tmp_path
):
    locks, table = bootstrap.locks, bootstrap.stack_info.read_stack_file()["table"]
    entry = table["stacks"][stack.id]
    assert locks.lock_for("cpu", entry) == locks.LOCK and locks.lock_for("cuda", entry) == locks.CUDA_LOCK
    assert locks.accelerator_note("cuda", entry) is None  # the CUDA lock says it all
    cuda_lock = tmp_path / "requirements-cuda.lock"
    cuda_lock.write_text("tensorflow==0\n")
    assert locks.accelerator_problem("cpu", machines["apple"], stack.id, table, cuda_lock) is None
    assert locks.accelerator_problem("cuda", machines["linux"], stack.id, table, cuda_lock) is None
    on_a_mac = locks.accelerator_problem("cuda", machines["apple"], stack.id, table, cuda_lock)
    assert "CUDA build is for Linux x86_64 and this is Apple Silicon" in on_a_mac
    missing = locks.accelerator_problem("cuda", machines["linux"], stack.id, table, tmp_path / "missing.lock")
    assert f"the {stack.id} stack has no CUDA lock (missing.lock)" in missing and "\n" not in missing
    assert any(other in missing for other in stack.alternatives)


def test_the_project_ships_its_cuda_lock(bootstrap):
    text = bootstrap.locks.CUDA_LOCK.read_text(encoding="utf-8")
    assert "tensorflow-cpu==" not in text and "--hash=sha256:" in text
    assert f"tensorflow=={bootstrap.stack_info.load_stack().requirements['linux_x86_64'][0].split('==')[1]}" in text
{%- endif %}


@pytest.mark.parametrize("compiled", [False, True])
def test_a_venv_whose_framework_has_no_bytecode_is_found_and_only_the_stacks_framework_counts(
    bootstrap, stack, tmp_path, compiled
):
    """bootstrap reinstalls (compiling) a reused .venv whose framework (TensorFlow, or PyTorch on a torch stack) was
    installed without .pyc files; the other framework's files, should any be there, decide nothing."""
    other = "tensorflow" if stack.framework == "torch" else "torch"
    site = tmp_path / ".venv" / "lib" / "python3.12" / "site-packages"
    for package in (stack.framework, other):  # the other one uncompiled: it must not count
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
    if compiled:
        (site / stack.framework / "__pycache__").mkdir()
        (site / stack.framework / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"")
    assert bootstrap.faults.framework_uncompiled(tmp_path / ".venv", stack.framework) is not compiled
    assert bootstrap.faults.framework_uncompiled(tmp_path / "elsewhere", stack.framework) is False
