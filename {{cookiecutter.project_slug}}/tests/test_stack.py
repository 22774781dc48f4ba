"""The stack table and the machine checks bootstrap.py relies on, plus the installed versions."""

from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement

from {{ cookiecutter.package_name }}.runtime import stack as stack_module
from {{ cookiecutter.package_name }}.runtime.stack import (
    Machine,
    load_stack,
    machine_problem,
    this_machine,
)

STACK = load_stack()


def test_the_chosen_stack_is_loaded():
    assert STACK.id == "{{ cookiecutter.tensorflow_stack }}"
    assert STACK.preferred_python in STACK.pythons


@pytest.mark.parametrize(
    ("machine", "message"),
    [
        (Machine("Darwin", "x86_64", rosetta=True, macos_version="14.5"), "Rosetta"),
        (Machine("Darwin", "arm64", rosetta=False, macos_version="11.7"), "too old for tensorflow-metal"),
        (Machine("Windows", "AMD64", rosetta=False, macos_version=""), "WSL2"),
        (Machine("Linux", "ppc64le", rosetta=False, macos_version=""), "not supported"),
    ],
)
def test_machines_that_cannot_run_the_stack_are_refused_with_the_fix(machine, message):
    assert message in machine_problem(machine, STACK)


@pytest.mark.parametrize(
    "machine", [Machine("Darwin", "arm64", False, STACK.macos_min), Machine("Linux", "x86_64", False, "")]
)
def test_supported_machines_pass(machine):
    assert machine_problem(machine, STACK) is None


@pytest.mark.parametrize(
    ("arch", "sysctls", "rosetta"),
    [
        ("arm64", {"sysctl.proc_translated": "0", "hw.optional.arm64": "1"}, False),
        ("x86_64", {"sysctl.proc_translated": "1", "hw.optional.arm64": "1"}, True),
        ("x86_64", {"hw.optional.arm64": "1"}, True),  # proc_translated unreadable, arm64 hardware
        ("x86_64", {}, False),  # an Intel Mac has neither
    ],
)
def test_rosetta_is_detected_from_sysctl(monkeypatch, arch, sysctls, rosetta):
    monkeypatch.setattr(stack_module.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(stack_module.platform, "machine", lambda: arch)
    monkeypatch.setattr(stack_module.platform, "mac_ver", lambda: ("14.5", ("", "", ""), ""))
    monkeypatch.setattr(stack_module, "sysctl", lambda name: sysctls.get(name, ""))
    machine = this_machine()
    assert machine.rosetta is rosetta
    assert machine.macos_version == "14.5"
    assert machine.apple_silicon is (arch == "arm64")


def test_this_environment_has_exactly_the_pinned_tensorflow_packages():
    machine = this_machine()
    pinned = [Requirement(text) for text in STACK.requirements[machine.platform_key]]
    applicable = [req for req in pinned if req.marker is None or req.marker.evaluate()]
    assert applicable, f"no pins for {machine.platform_key}"
    for requirement in applicable:
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            pytest.fail(f"{requirement.name} is not installed: run python3 bootstrap.py")
        assert installed in requirement.specifier, f"{requirement.name} {installed} is not {requirement}"
