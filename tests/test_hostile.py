"""Hostile answers, property-based: each either makes a valid project in which the value lands intact
(TOML, JSON, Markdown, LICENSE, the package) or is refused with one line and no file written.

Examples are derandomized (the same on every run, so CI is reproducible) and few per property, and each
is baked in-process, to keep the whole file near 30 s. cookiecutter's own limits (it evaluates `{{ }}` in
an answer, it creates the folder before the hooks run) are pinned down by explicit tests at the end and
listed in the README under "Known limits".
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import tomllib
from pathlib import Path

import pytest
from cookiecutter.exceptions import CookiecutterException, FailedHookException
from helpers import bake, markdown_unescaped
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slugify import slugify  # cookiecutter's own slugify filter

settings.register_profile(
    "template",
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("template")

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
JINJA = ("{{", "{%", "{#")
FRAGMENTS = [
    '"',
    "'",
    "\\",
    '"""',
    "'''",
    "\n",
    "\t",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "${HOME}",
    "$(id)",
    "`id`",
    "%",
    "%s",
    "ü",
    "日本語",
    "😀",
    "\u2028",
    "\u0085",
    "<b>",
    "*",
    "_",
    "# ",
    "- ",
    "1. ",
    "[x](y)",
    "&amp;",
    "|",
    "\\n",
    "\\u0041",
    "=",
    "[tool]",
    'license = "x"',
    "'''; import os; os.system('id'); '''",
    "; rm -rf ~",
]
ordinary_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
hostile_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), ordinary_text), max_size=12).map("".join)
long_text = st.builds(lambda s, n: ((s or "x") * n)[:5000], hostile_text, st.integers(50, 200))


def as_answer(value: str) -> str:
    """What to hand cookiecutter so that it keeps `value` as typed: it renders every answer as Jinja, so
    text holding Jinja's delimiters goes in a raw block (see test_cookiecutter_evaluates_jinja_in_answers)."""
    return f"{{% raw %}}{value}{{% endraw %}}" if any(mark in value for mark in JINJA) else value


def attempt(tmp_path: Path, capfd, **answers) -> tuple:
    """(project or None, stderr) for one bake into a fresh folder; the folder must stay empty on refusal."""
    out = Path(tempfile_dir(tmp_path))
    capfd.readouterr()
    try:
        project = bake(out, **answers)
    except FailedHookException:
        project = None
    err = capfd.readouterr().err
    if project is None:
        errors = [line for line in err.splitlines() if line.startswith("ERROR: ")]
        assert len(errors) == 1 and err.startswith(errors[0]), err
        assert [p for p in out.rglob("*") if p.is_file()] == [], "a refused answer left files behind"
    return project, err


_counter = iter(range(10**9))


def tempfile_dir(tmp_path: Path) -> Path:
    path = tmp_path / f"bake{next(_counter)}"
    path.mkdir()
    return path


def generated_answers(project: Path) -> dict:
    stack_file = next(project.glob("src/*/runtime/stack.json"))
    return json.loads(stack_file.read_text(encoding="utf-8"))["generated_with"]["answers"]


@given(field=st.sampled_from(["project_name", "author_name", "description"]), value=st.one_of(hostile_text, long_text))
@example(field="description", value="- *not* a list \\* <b>x</b> [l](u) `c` \\_ 100% ${HOME} {{ x }} \"\"\" '''")
@example(field="project_name", value="1. Lab \\` ü 😀 # x")
@example(field="author_name", value='O\'Neil "Z" \\ \\u0041 \u2028')
def test_free_text_lands_intact_or_is_refused_in_one_line(tmp_path, capfd, field, value):
    if field == "project_name":
        value = value[:120]  # the folder name derived from it must fit a file name (255 bytes): Known limits
        if not CONTROL.search(value) and not slugify(value):
            return  # no letter or digit: an empty folder name, refused by cookiecutter itself (tested below)
    project, err = attempt(tmp_path, capfd, **{field: as_answer(value)})
    if CONTROL.search(value):
        assert project is None and f"{field} contains a control character" in err
        return
    if project is None:
        assert field == "project_name" and "package_name" in err  # a name whose slug starts with a digit etc.
        return
    assert generated_answers(project)[field] == value
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    readme = markdown_unescaped((project / "README.md").read_text(encoding="utf-8"))
    if field == "description":
        assert pyproject["description"] == value
        assert f"\n\n{value}\n\n" in readme
    elif field == "author_name":
        assert pyproject["authors"] == [{"name": value}]
        assert value in (project / "LICENSE").read_text(encoding="utf-8")
    else:
        assert readme.startswith(f"# {value}\n")
    assert pyproject["license"] == "MIT" and set(pyproject) >= {"name", "dependencies"}


RESERVED = sorted(
    {*keyword.kwlist, "test", "os", "sys", "json", "tensorflow", "keras", "hydra", "tests", "conf", "bootstrap"}
    | {"CON", "NUL", "con", "nul", "aux", "com1", "lpt1"}
    | {"../x", "/abs", "a/b", "..", ".hidden", "a\\b", "1abc", "", " ", "_", "__init__", "ünï", "a-b", "a b"}
)
names = st.one_of(
    st.sampled_from(RESERVED),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
)


def package_problem(name: str) -> bool:
    stdlib = sys.stdlib_module_names
    return not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name) or name in stdlib


@given(package=names)
def test_a_package_name_is_a_valid_importable_package_or_refused(tmp_path, capfd, package):
    project, err = attempt(tmp_path, capfd, package_name=as_answer(package))
    if package_problem(package):
        assert project is None and "package_name" in err
        return
    if project is None:  # valid Python, but a module the project needs (tensorflow, hydra, tests, ...)
        assert f"would shadow the module {package!r}" in err
        return
    assert (project / "src" / package / "__init__.py").is_file()
    assert tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"] == package
    assert f'PACKAGE = "{package}"' in (project / "bootstrap.py").read_text(encoding="utf-8")


@given(slug=names)
def test_a_folder_name_is_a_plain_folder_inside_the_output_or_refused(tmp_path, capfd, slug):
    if slug.startswith("/"):
        slug = str(tmp_path / "absolute") + slug  # an absolute path, but one this test may create
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    try:
        project, err = attempt(tmp_path, capfd, project_slug=as_answer(slug), package_name="pkg")
    except (CookiecutterException, OSError, ValueError):
        # refused by cookiecutter before any hook: the output folder itself ("", "."), a name too long
        assert not slug.strip(" .") or len(slug.encode()) > 255 or "\x00" in slug, slug
        assert {p for p in tmp_path.rglob("*") if p.is_file()} == before
        return
    if "/" in slug or "\\" in slug or ".." in slug or slug.startswith(".") or not slug.strip():
        assert project is None and "project_slug" in err
        return
    if CONTROL.search(slug):
        assert project is None and "project_slug contains a control character" in err
        return
    assert project is not None and project.name == slug and project.parent.parent == tmp_path


# --- injection: answers are data in the hooks and in every generated file ---------------------------


def test_answers_cannot_inject_python_shell_or_toml(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    # no git identity, so the first commit takes the author's name as an argument (never through a shell)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "empty-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    payloads = {
        "project_name": 'x"""); import os; os.system(\'touch PWNED_NAME\'); ("""',
        "author_name": "$(touch PWNED_SHELL) `touch PWNED_TICK`; touch PWNED_SEMI \\",
        "description": 'x", license = "Proprietary", readme = "y',
    }
    project, err = attempt(tmp_path, capfd, git_init="yes", **payloads)
    assert project is not None, err
    assert not list(tmp_path.rglob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["license"] == "MIT" and pyproject["readme"] == "README.md"
    assert pyproject["description"] == payloads["description"]
    assert pyproject["authors"] == [{"name": payloads["author_name"]}]
    assert generated_answers(project) | payloads == generated_answers(project)
    assert "git: created a repository" in capfd.readouterr().out or (project / ".git").is_dir()


def test_a_toml_line_injected_with_a_newline_is_refused(tmp_path, capfd):
    project, err = attempt(tmp_path, capfd, description='x"\nlicense = "Proprietary')
    assert project is None and "description contains a control character" in err


# --- cookiecutter's own limits (README: Known limits) ------------------------------------------------


def test_cookiecutter_evaluates_jinja_in_answers_and_refuses_broken_jinja_writing_nothing(tmp_path, capfd):
    project, _ = attempt(tmp_path, capfd, description="{{ 6 * 7 }}")
    assert generated_answers(project)["description"] == "42"
    out = tempfile_dir(tmp_path)
    with pytest.raises(Exception, match="unknown tag"):
        bake(out, description="a {% b")
    assert list(out.iterdir()) == []
    raw, _ = attempt(tmp_path, capfd, description=as_answer("{{ 6 * 7 }} {% b"))
    assert generated_answers(raw)["description"] == "{{ 6 * 7 }} {% b"


def test_a_name_without_letters_or_digits_or_a_too_long_one_is_refused_by_cookiecutter(tmp_path):
    for name, error in (("!!!", CookiecutterException), ("x" * 300, OSError)):
        out = tempfile_dir(tmp_path)
        with pytest.raises(error):
            bake(out, project_name=name)
        assert list(out.rglob("*")) == []
