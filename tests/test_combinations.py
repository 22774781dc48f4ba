"""Every valid combination of the choice variables bakes into exactly the expected files, each of which
parses, with no Jinja left, and lints clean; every invalid (stack, Python) pair is refused at pre-gen.

The key variables (stack, Python, jupyter: they change the pins, the locks and the Makefile) are baked in
every combination; license and git_init, which change one file or the repository each, are cycled
through alongside, as cookiecutter-data-science's tests do, so every value of every variable is baked.
M1TF_FAST=1 bakes one combination per stack (still cycling the rest) for quick local runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from itertools import cycle, product

import pytest
from cookiecutter.exceptions import FailedHookException
from helpers import COOKIECUTTER_JSON, STACKS, TEMPLATE, assert_rendered_and_parsing, bake, files_of, lock_entries
from test_bake import expected_files as expected_files_of

pytestmark = pytest.mark.xdist_group("combinations")  # under pytest-xdist: the 30 bakes are made once, on one worker
FAST = os.environ.get("M1TF_FAST") == "1"
PYTHONS = COOKIECUTTER_JSON["python_version"]
VALID_PAIRS = [(stack_id, python) for stack_id, stack in STACKS["stacks"].items() for python in stack["python"]]
INVALID_PAIRS = [
    (stack_id, python)
    for stack_id in STACKS["stacks"]
    for python in PYTHONS
    if python not in STACKS["stacks"][stack_id]["python"]
]


def combinations(fast: bool = FAST) -> list:
    keys = [(stack, python, jupyter) for (stack, python), jupyter in product(VALID_PAIRS, COOKIECUTTER_JSON["jupyter"])]
    if fast:  # one per stack, alternating jupyter
        seen = {}
        for stack, python, _ in keys:
            seen.setdefault(stack, (stack, python, "yes" if len(seen) % 2 else "no"))
        keys = list(seen.values())
    licenses, git_inits = cycle(COOKIECUTTER_JSON["license"]), cycle(COOKIECUTTER_JSON["git_init"])
    return [
        {
            "tensorflow_stack": stack,
            "python_version": python,
            "jupyter": jupyter,
            "license": next(licenses),
            "git_init": next(git_inits),
            "project_name": f"Combo {index}",
        }
        for index, (stack, python, jupyter) in enumerate(keys)
    ]


def expected_files(answers: dict) -> set:
    package = answers["project_name"].lower().replace(" ", "_")
    return expected_files_of(answers["tensorflow_stack"], package, answers["jupyter"])


@pytest.fixture(scope="module")
def baked(tmp_path_factory) -> list:
    base = tmp_path_factory.mktemp("combinations")
    return [(answers, bake(base / str(index), **answers)) for index, answers in enumerate(combinations())]


def test_the_combinations_cover_every_value_of_every_choice():
    for fast in (False, True):
        chosen = combinations(fast)
        for variable in ("tensorflow_stack", "jupyter", "license", "git_init"):
            assert {answers[variable] for answers in chosen} == set(COOKIECUTTER_JSON[variable]), (variable, fast)
    keys = [(a["tensorflow_stack"], a["python_version"], a["jupyter"]) for a in combinations(False)]
    assert sorted(keys) == sorted(
        (stack, python, jupyter) for (stack, python), jupyter in product(VALID_PAIRS, ("no", "yes"))
    )


def test_every_combination_has_exactly_its_files_all_rendered_and_parsing(baked):
    for answers, project in baked:
        assert files_of(project) == expected_files(answers), answers
        for name in files_of(project):
            path = project / name
            if path.is_relative_to(project / "tests" / "fixtures") or path.suffix == ".gz":
                continue  # legacy projects for the migration tests (old code on purpose); the API snapshot
            try:
                assert_rendered_and_parsing(path.suffix, path.read_text(encoding="utf-8"))
            except Exception as error:
                raise AssertionError(f"{name}: {error}: {answers}") from error


def test_every_combination_carries_its_answers(baked):
    for answers, project in baked:
        pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        license_file = (project / "LICENSE").read_text(encoding="utf-8")
        if answers["license"] == "Proprietary":
            assert pyproject["license"] == "LicenseRef-Proprietary"
            assert pyproject["classifiers"] == ["Private :: Do Not Upload"]
            assert "All rights reserved" in license_file
        else:
            assert pyproject["license"] == answers["license"] and "classifiers" not in pyproject
        dev = pyproject["optional-dependencies"]["dev"]
        makefile = (project / "Makefile").read_text(encoding="utf-8")
        if answers["jupyter"] == "yes":
            assert any(req.startswith("ipykernel") for req in dev) and "\nkernel:" in makefile
            overlay = (project / "requirements-jupyter.lock").read_text(encoding="utf-8")
            assert overlay == (
                TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{answers['tensorflow_stack']}.jupyter.txt"
            ).read_text(encoding="utf-8")
            assert any(entry.name == "ipykernel" for entry in lock_entries(overlay))
        else:
            assert not any("ipykernel" in req for req in dev) and "kernel" not in makefile
        stack = json.loads(next(project.glob("src/*/runtime/stack.json")).read_text(encoding="utf-8"))
        assert (stack["chosen"], stack["python_version"]) == (answers["tensorflow_stack"], answers["python_version"])
        assert (project / ".git").is_dir() == (answers["git_init"] == "yes")


@pytest.mark.network  # uv fetches the locked ruff once (then it is cached)
def test_every_combination_passes_the_projects_own_lint(baked):
    """ruff at the version the generated lock pins, once over every baked project (each project's own
    [tool.ruff] settings apply to its files)."""
    from uv import find_uv_bin

    lock = (TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / "tensorflow-macos-2.16.txt").read_text()
    (ruff_version,) = {entry.specifier for entry in lock_entries(lock) if entry.name == "ruff"}
    projects = [str(project) for _, project in baked]
    ruff = [find_uv_bin(), "tool", "run", "--from", f"ruff{ruff_version}", "ruff"]
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        result = subprocess.run(ruff + command + projects, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("stack_id", "python"), INVALID_PAIRS)
def test_every_invalid_stack_and_python_pair_is_refused_with_one_line(tmp_path, capfd, stack_id, python):
    with pytest.raises(FailedHookException):
        bake(tmp_path, tensorflow_stack=stack_id, python_version=python)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and f"python_version '{python}' is outside the {stack_id} stack's range" in errors[0]
    assert list(tmp_path.iterdir()) == []
