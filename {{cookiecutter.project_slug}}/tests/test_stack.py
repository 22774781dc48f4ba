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


# What gives each backend the Apple GPU, as the refusal of a too old macOS names it
APPLE_GPU = {"tensorflow": STACK.metal_provider, "torch": f"PyTorch {STACK.torch}"}[STACK.backend]


@pytest.mark.parametrize(
    ("machine", "message"),
    [
        (Machine("Darwin", "x86_64", rosetta=True, macos_version="14.5"), "Rosetta"),
        (Machine("Darwin", "arm64", rosetta=False, macos_version="11.7"), f"too old for {APPLE_GPU}"),
        (Machine("Windows", "AMD64", rosetta=False, macos_version=""), "WSL2"),
        (Machine("Linux", "ppc64le", rosetta=False, macos_version=""), "not supported"),
    ],
)
def test_machines_that_cannot_run_the_stack_are_refused_with_the_fix(machine, message):
    assert message in machine_problem(machine, STACK)


def test_a_rosetta_python_is_refused_naming_this_stacks_framework():
    problem = machine_problem(Machine("Darwin", "x86_64", rosetta=True, macos_version="14.5"), STACK)
    assert f"{STACK.framework_name} has no" in problem or f"x86 {STACK.framework_name} has no" in problem
    assert "native arm64 Python" in problem


def just_older(version: str) -> str:
    major, minor = (int(part) for part in version.split(".")[:2])
    return f"{major}.{minor - 1}" if minor else f"{major - 1}.7"


def test_macos_just_older_than_the_stacks_minimum_is_refused_in_one_line_with_the_cure():
    old = just_older(STACK.macos_min)
    problem = machine_problem(Machine("Darwin", "arm64", rosetta=False, macos_version=old), STACK)
    assert problem.startswith(f"macOS {old} is too old for {APPLE_GPU} (it needs macOS {STACK.macos_min} or newer)")
    assert "Software Update" in problem and "\n" not in problem


PLATFORMS = {
    "apple_silicon": Machine("Darwin", "arm64", rosetta=False, macos_version=STACK.macos_min),
    "intel_mac": Machine("Darwin", "x86_64", rosetta=False, macos_version="14.5"),
    "linux_x86_64": Machine("Linux", "x86_64", rosetta=False, macos_version=""),
    "linux_aarch64": Machine("Linux", "aarch64", rosetta=False, macos_version=""),
}


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_each_platform_installs_the_stack_or_is_refused_with_the_tables_reason(platform):
    problem = machine_problem(PLATFORMS[platform], STACK)
    if platform in STACK.requirements:
        assert problem is None
    else:  # e.g. an Intel Mac: no wheels of the stack's framework for it
        assert problem == (
            f"The {STACK.id} stack does not install on {PLATFORMS[platform].describe()}: {STACK.unsupported[platform]}."
        )


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
