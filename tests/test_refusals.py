"""Bad answers are refused by the pre-generation hook with one clear line, and nothing is written."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TEMPLATE, bake_cli, files_of


def pasted_command(stderr: str) -> str:
    """What the refusal gives back to paste: everything after its "Nothing was written" line (a quoted
    answer may span lines)."""
    return stderr.split("as one command:\n", 1)[1].rstrip("\n")


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
    (
        ["tensorflow_stack=keras-torch", "python_version=3.10"],
        "outside the keras-torch stack's range (Keras 3.15.1 needs Python 3.11 or newer",
    ),
    (
        # a real folder (this file's): the refusal is the stack's, whatever the legacy project holds
        ["tensorflow_stack=keras-torch", f"legacy_project={Path(__file__).parent}"],
        "'keras-torch' has no TensorFlow, and legacy TensorFlow code (legacy_project) is migrated on a "
        "TensorFlow stack: choose one (keras2-legacy, tensorflow-2.19, tensorflow-2.21-community, "
        "tensorflow-macos-2.16 for Python 3.11) and migrate there; move to keras-torch later, once the code is "
        "backend-neutral Keras 3",
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
    assert result.stderr.startswith(errors[0])
    assert list(out.iterdir()) == []
    assert not (tmp_path / "escape").exists()
    # the answers come back as one command, every answer given in it, the refused one last
    command = shlex.split(pasted_command(result.stderr))
    assert command[:3] == ["cookiecutter", str(TEMPLATE), "--no-input"] and command[3:5] == ["-o", str(out)]
    given = dict(answer.split("=", 1) for answer in ["bootstrap=skip", *answers])
    pasted = dict(answer.split("=", 1) for answer in command[5:])
    assert given.items() <= pasted.items()
    refused = result.stderr.splitlines()[1].split("with ")[1].split(" last")[0]
    assert command[-1].startswith(f"{refused}=") and refused in errors[0]


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


def cookiecutter_on_path(tmp_path) -> dict:
    """The environment of a user whose `cookiecutter` command is this test run's cookiecutter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cookiecutter").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m cookiecutter "$@"\n')
    (bin_dir / "cookiecutter").chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_refused_interactive_session_gives_a_command_that_pasted_with_the_fix_generates(tmp_path):
    """Typed at the prompts (stdin), one answer refused: the last line, pasted into a shell with the last
    answer fixed, makes the project with every other answer as typed, odd characters included."""
    env = cookiecutter_on_path(tmp_path)
    work = tmp_path / "work dir"
    work.mkdir()
    author = 'O\'Neil "$HOME" `id` \\ 100%'
    typed = [
        "My Lab",  # project_name
        "",  # project_slug: default
        "",  # package_name: default
        author,
        "",  # description: default
        "2",  # license: BSD-3-Clause
        "3",  # tensorflow_stack: keras2-legacy
        "3",  # python_version: 3.12, outside keras2-legacy's range
        "2",  # jupyter: yes
        "2",  # git_init: no
        "4",  # bootstrap: skip
        "",  # legacy_project: none
    ]
    result = subprocess.run(
        ["cookiecutter", str(TEMPLATE)],
        input="\n".join(typed) + "\n",
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and list(work.iterdir()) == []
    assert result.stderr.startswith("ERROR: python_version '3.12' is outside the keras2-legacy stack's range")
    pasted = pasted_command(result.stderr)
    assert " -o " not in pasted  # generated in the folder it was started in: no -o needed
    assert pasted.endswith(" python_version=3.12")
    fixed = pasted.removesuffix("3.12") + "3.11"
    again = subprocess.run(["bash", "-c", fixed], cwd=work, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    project = work / "my-lab"
    stack = (project / "src" / "my_lab" / "runtime" / "stack.json").read_text(encoding="utf-8")
    assert '"chosen": "keras2-legacy"' in stack and '"python_version": "3.11"' in stack
    assert author in (project / "LICENSE").read_text(encoding="utf-8")
    assert (project / "LICENSE").read_text(encoding="utf-8").startswith("BSD 3-Clause License")
    assert "requirements-jupyter.lock" in files_of(project) and not (project / ".git").exists()


def test_a_refused_slug_leaves_the_derived_package_name_out_of_the_command(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = bake_cli(out, "project_slug=.hidden")
    command = shlex.split(pasted_command(result.stderr))
    assert command[-1] == "project_slug=.hidden"
    assert not any(answer.startswith("package_name=") for answer in command)
