"""bootstrap.py's choice of interpreter, with fake interpreters: runs everywhere, installs nothing."""

import importlib.util
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.stack import load_stack

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
    }


def fake_world(monkeypatch, bootstrap, running, found_by_version):
    """Interpreters are paths like /<where>/<arch>/python<X.Y>; a throwaway venv's base is under /base/."""

    def probe(path):
        *_, where, arch, name = path.split("/")
        version = tuple(int(part) for part in name.removeprefix("python").split(".")) + (0,)
        base = f"/base/{arch}/{name}" if where == "tool-venv" else path
        return version, arch, base

    monkeypatch.setattr(bootstrap, "probe", probe)
    monkeypatch.setattr(bootstrap.sys, "executable", running)
    monkeypatch.setattr(
        bootstrap, "candidate_pythons", lambda versions, uv: [p for v in versions for p in found_by_version.get(v, [])]
    )


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
