"""Every project name passes the project's own lint: ruff check and ruff format --check with the generated
pyproject's settings, over every generated file, whatever the package name sorts before or after (the tests'
own `markers` module, the package's modules) and however long it may be."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from helpers import STACKS, TEMPLATE, bake, lock_entries, run
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st
from test_quality import ruff


def lint_problems(project: Path) -> str:
    problems = ""
    for command in (
        ["check", "--no-cache", "--output-format", "concise", "."],
        ["format", "--check", "--no-cache", "."],
    ):
        result = run([ruff(), *command], cwd=project)
        problems += result.stdout + result.stderr if result.returncode else ""
    return problems


def test_this_suite_lints_with_the_ruff_of_the_projects_lock():
    version = run([ruff(), "--version"], cwd=TEMPLATE).stdout.split()[1]
    locked = {
        str(req.specifier)
        for lock in (TEMPLATE / "{{cookiecutter.project_slug}}" / "locks").glob("*.txt")
        for req in lock_entries(lock.read_text(encoding="utf-8"))
        if req.name == "ruff"
    }
    assert locked == {f"=={version}"}


@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(package=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,39}", fullmatch=True))
@example(package="aardvark")  # sorts before every module of the project and its tests
@example(package="weather_model")  # after the tests' `markers`: out of order until the isort section
@example(package="zzz")
@example(package="m")
@example(package="Markers_Z")
@example(package="p" + "x" * 39)  # the longest name the pre-gen hook accepts
def test_every_package_name_passes_the_projects_own_lint(package):
    with tempfile.TemporaryDirectory() as out:
        try:
            project = bake(Path(out), project_name=package.replace("_", " "), package_name=package)
        except FailedHookException:
            reject()  # a keyword, a module the project needs, ...: refused in one line (test_hostile.py)
        assert lint_problems(project) == ""


def test_a_name_the_lint_cannot_hold_is_refused(tmp_path, capfd):
    long_name = "p" + "x" * 40
    try:
        bake(tmp_path, package_name=long_name)
    except FailedHookException:
        pass
    err = capfd.readouterr().err
    assert re.search(rf"ERROR: package_name '{long_name}' is longer than 40 characters", err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("stack_id", [stack_id for stack_id in STACKS["stacks"] if stack_id != "tensorflow-macos-2.16"])
def test_the_longest_package_name_passes_the_lint_on_every_other_stack(tmp_path, stack_id):
    """The stacks render other branches of the same files (keras-torch: no TensorFlow, fewer files), each with
    the longest name the pre-gen hook accepts (the default stack's are the examples above)."""
    package = "p" + "x" * 39
    python = STACKS["stacks"][stack_id]["python"][0]
    project = bake(tmp_path, package_name=package, tensorflow_stack=stack_id, python_version=python)
    assert lint_problems(project) == ""
