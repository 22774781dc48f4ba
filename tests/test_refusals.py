"""Bad answers are refused by the pre-generation hook with one clear line, and nothing is written."""

from __future__ import annotations

import pytest
from helpers import bake_cli

REFUSED = [
    (["package_name=keras"], "shadow the module 'keras'"),
    (["package_name=tensorflow"], "shadow the module 'tensorflow'"),
    (["package_name=hydra"], "shadow the module 'hydra'"),
    (["package_name=os"], "shadow the module 'os'"),
    (["package_name=test"], "shadow the module 'test'"),
    (["package_name=class"], "is a Python keyword"),
    (["package_name=my-pkg"], "is not a Python identifier"),
    (["package_name=1abc"], "is not a Python identifier"),
    (["package_name=ünï"], "is not a Python identifier"),
    (["project_slug=../escape"], "must be a plain folder name"),
    (["project_slug=.hidden"], "must be a plain folder name"),
    (["project_slug=a\\b"], "must be a plain folder name"),
    (["python_version=3.13"], "outside the tensorflow-macos-2.16 stack's range"),
    (
        ["tensorflow_stack=keras2-legacy", "python_version=3.12"],
        "tensorflow-metal 1.1.0 ships wheels for Python 3.9-3.11 only",
    ),
    (
        ["tensorflow_stack=tensorflow-2.19", "python_version=3.13"],
        "tensorflow-metal 1.2.0 ships wheels for Python 3.9-3.12",
    ),
    (["description=two\nlines"], "control character"),
    (["legacy_project=/nonexistent/legacy-project"], "legacy_project '/nonexistent/legacy-project' does not exist"),
    (["legacy_project=../no-such-folder-either"], "does not exist or is not a folder"),
    ([f"legacy_project={__file__}"], "does not exist or is not a folder"),  # a file, not a folder
]


@pytest.mark.parametrize(("answers", "message"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_bad_answers_are_refused_before_anything_is_written(tmp_path, answers, message):
    out = tmp_path / "out"
    out.mkdir()
    result = bake_cli(out, "bootstrap=skip", *answers)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert list(out.iterdir()) == []
    assert not (tmp_path / "escape").exists()


def test_a_slug_with_a_separator_is_refused_and_leaves_no_files(tmp_path):
    # cookiecutter creates the folder named by the slug before any hook runs and removes only the
    # innermost one on refusal, so an empty "a/" can remain; no file is ever written.
    out = tmp_path / "out"
    out.mkdir()
    result = bake_cli(out, "bootstrap=skip", "project_slug=a/b")
    assert result.returncode != 0 and "must be a plain folder name" in result.stderr
    assert [p for p in out.rglob("*") if not p.is_dir()] == []


def test_a_name_without_letters_or_digits_is_refused(tmp_path):
    # Its slug is empty, which cookiecutter refuses itself ("directory already exists") before any hook.
    out = tmp_path / "out"
    out.mkdir()
    result = bake_cli(out, "bootstrap=skip", "project_name=!!!")
    assert result.returncode != 0
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "answer",
    [
        "tensorflow_stack=tf-9.9",
        "bootstrap=sometimes",
        "python_version=3.9",
        "python_version=banana",
        "license=GPL-3.0",
        "git_init=maybe",
        "jupyter=1",
    ],
)
def test_an_unknown_choice_is_refused(tmp_path, answer):
    # cookiecutter itself rejects a value outside a choice list, before the hooks run.
    out = tmp_path / "out"
    out.mkdir()
    result = bake_cli(out, answer)
    assert result.returncode != 0
    assert "but the choices are" in result.stderr
    assert list(out.iterdir()) == []
