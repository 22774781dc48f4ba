"""The template under every tool a user or a template fork may render it with: each cookiecutter release
from the supported minimum to the newest (older ones refuse in one line), pytest-cookies, and cruft
(create, diff, update). Every supported tool must write exactly the files a bake with this suite's own
cookiecutter writes."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TEMPLATE, bake, env_with_uv, files_of, run

ANSWERS = {"project_name": "Weather Model", "bootstrap": "skip", "git_init": "no"}
# The newest release of each cookiecutter minor version from the supported minimum on, and 1.7.3 (Debian
# 13's python3-cookiecutter), which must refuse. The last one is the version tests/requirements.txt pins.
RELEASES = ["1.7.3", "2.1.1", "2.2.3", "2.3.1", "2.4.0", "2.5.0", "2.6.0", "2.7.1"]


def minimum_cookiecutter() -> tuple:
    """The minimum the pre-gen hook enforces (read from its source: the hook is a Jinja template)."""
    source = (TEMPLATE / "hooks" / "pre_gen_project.py").read_text(encoding="utf-8")
    return tuple(map(int, re.search(r"^MINIMUM_COOKIECUTTER = \((\d+), (\d+), (\d+)\)", source, re.M).groups()))


def release(version: str) -> tuple:
    return tuple(map(int, version.split(".")))


def assert_same_project(project: Path, reference: Path):
    assert files_of(project) == files_of(reference)
    different = [name for name in files_of(project) if (project / name).read_bytes() != (reference / name).read_bytes()]
    assert different == []


def test_the_releases_run_from_the_minimum_to_the_newest():
    minimum = minimum_cookiecutter()
    supported = [version for version in RELEASES if release(version) >= minimum]
    assert release(supported[0])[:2] == minimum[:2] and release(RELEASES[0]) < minimum
    minors = [release(version)[:2] for version in supported]
    assert len(set(minors)) == len(minors) and minors == sorted(minors)
    assert RELEASES[-1] == importlib.metadata.version("cookiecutter")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("reference"), **ANSWERS)


@pytest.mark.network
@pytest.mark.parametrize("version", RELEASES)
def test_each_cookiecutter_release_writes_the_project_or_refuses_in_one_line(tmp_path, reference, version):
    out = tmp_path / "out"
    out.mkdir()
    answers = [f"{key}={value}" for key, value in ANSWERS.items()]
    command = ["uv", "tool", "run", "--python", sys.executable, "--from", f"cookiecutter=={version}", "cookiecutter"]
    result = run([*command, "--no-input", TEMPLATE, "-o", out, *answers], cwd=tmp_path, env=env_with_uv())
    if release(version) >= minimum_cookiecutter():
        assert result.returncode == 0, result.stderr
        assert_same_project(out / "weather-model", reference)
        return
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and result.stderr.startswith(errors[0]), result.stderr
    minimum = ".".join(map(str, minimum_cookiecutter()))
    for part in (f"cookiecutter {version} is older than {minimum}", "uvx cookiecutter", "pip install -U cookiecutter"):
        assert part in errors[0]
    assert list(out.iterdir()) == [], "a refused cookiecutter left files behind"


def test_pytest_cookies_bakes_the_template(tmp_path, reference):
    """As a fork's own suite would, in a fresh pytest process: pytest-cookies renders the context before
    cookiecutter runs, so a template's own Jinja extension would not be importable there (in this process an
    earlier bake would have left it in sys.modules)."""
    fork_test = f"""
def test_bake(cookies):
    result = cookies.bake(template={str(TEMPLATE)!r}, extra_context={ANSWERS!r})
    assert result.exception is None and result.exit_code == 0, repr(result.exception)
    print("BAKED", result.project_path)
"""
    (tmp_path / "test_fork.py").write_text(fork_test, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--keep-baked-projects"]
    command += ["--basetemp", tmp_path / "baked"]
    result = run([*command, "test_fork.py"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert_same_project(Path(re.search(r"^BAKED (.+)$", result.stdout, re.M)[1]), reference)


def template_repository(destination: Path) -> Path:
    """The template as it is on disk (uncommitted changes included) as a git repository: cruft clones the
    template with git, also from a local path."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=TEMPLATE)
    for name in listed.stdout.splitlines():
        if (TEMPLATE / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, destination / name)
    commit(destination, "the template")
    return destination


def commit(repository: Path, message: str):
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for args in (["init", "--quiet"], ["add", "--all"], [*identity, "commit", "--quiet", "-m", message]):
        subprocess.run(["git", *args], cwd=repository, check=True, capture_output=True)


def test_cruft_creates_diffs_and_updates_the_project(tmp_path, reference):
    cruft = [sys.executable, "-m", "cruft"]
    template = template_repository(tmp_path / "template")
    answers = ANSWERS | {"git_init": "yes", "bootstrap": "auto"}  # neither may run under cruft (see the hook)
    created = run(
        [*cruft, "create", "--no-input", "--extra-context", repr(answers).replace("'", '"'), template], cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    project = tmp_path / "weather-model"
    assert "run `git init` yourself" in created.stderr and not (project / ".git").exists()
    assert files_of(project) - {".cruft.json"} == files_of(reference) and not (project / ".venv").exists()

    diff = run([*cruft, "diff", "--exit-code"], cwd=project)
    assert diff.returncode == 0 and diff.stdout == "", diff.stdout + diff.stderr

    commit(project, "created with cruft")  # cruft update wants a clean git project
    with (template / "{{cookiecutter.project_slug}}" / "Makefile").open("a") as makefile:
        makefile.write("# a change in the template\n")
    subprocess.run(["git", "commit", "--quiet", "-am", "change"], cwd=template, check=True, capture_output=True)
    assert run([*cruft, "check"], cwd=project).returncode != 0  # the project is behind its template
    updated = run([*cruft, "update", "--skip-apply-ask"], cwd=project)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert (project / "Makefile").read_text().endswith("# a change in the template\n")
    assert list(project.rglob("*.rej")) == [] and run([*cruft, "diff", "--exit-code"], cwd=project).returncode == 0


def test_replay_and_the_python_api_from_another_folder_write_the_same_project(tmp_path, reference):
    config = tmp_path / "config.yaml"
    config.write_text(f'replay_dir: "{tmp_path / "replay"}"\ncookiecutters_dir: "{tmp_path / "cache"}"\n')
    cli = [sys.executable, "-m", "cookiecutter", "--config-file", config]
    answers = [f"{key}={value}" for key, value in ANSWERS.items()]
    first = run([*cli, "--no-input", TEMPLATE, "-o", tmp_path / "first", *answers], cwd=tmp_path)
    replayed = run([*cli, "--replay", TEMPLATE, "-o", tmp_path / "replayed"], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    api = (
        "from cookiecutter.main import cookiecutter\n"
        f"cookiecutter({str(TEMPLATE)!r}, no_input=True, extra_context={ANSWERS!r}, config_file={str(config)!r})"
    )
    called = run([sys.executable, "-c", api], cwd=elsewhere)
    for result, out in ((first, "first"), (replayed, "replayed"), (called, "elsewhere")):
        assert result.returncode == 0, result.stderr
        assert_same_project(tmp_path / out / "weather-model", reference)
