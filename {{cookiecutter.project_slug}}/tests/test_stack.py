"""The stack table and the machine checks bootstrap.py relies on, plus the installed versions."""

from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement

from {{ cookiecutter.package_name }}.stack import Machine, load_stack, machine_problem, this_machine

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


@pytest.mark.parametrize("machine", [Machine("Darwin", "arm64", False, "12.1"), Machine("Linux", "x86_64", False, "")])
def test_supported_machines_pass(machine):
    assert machine_problem(machine, STACK) is None


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
