"""Helpers for the template's tests: bake the template, run commands, find Pythons."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from cookiecutter.main import cookiecutter
from packaging.requirements import Requirement

TEMPLATE = Path(__file__).resolve().parents[1]
COOKIECUTTER_JSON = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
STACKS = COOKIECUTTER_JSON["_stacks"]
DEFAULT_PACKAGE = "keras_metal_project"
LEGACY_FIXTURES = TEMPLATE / "{{cookiecutter.project_slug}}" / "tests" / "fixtures" / "legacy"

# uv may never fetch a Python here: the network reaches only the package registries.
os.environ["UV_PYTHON_DOWNLOADS"] = "never"


def bake(output_dir: Path, **answers: str) -> Path:
    """Generate a project without bootstrapping it and without a git repository (unless bootstrap= or
    git_init= say otherwise: the git tests and the shared bootstrapped project ask for one)."""
    answers.setdefault("bootstrap", "skip")
    answers.setdefault("git_init", "no")
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=answers))


def bake_cli(output_dir: Path, *answers: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the cookiecutter command line as a user would, with answers as key=value."""
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE), "-o", str(output_dir), *answers],
        capture_output=True,
        text=True,
        env=env,
    )


def files_of(project: Path) -> set:
    """Every file of a generated project, relative, .git's own files left out."""
    return {
        str(p.relative_to(project))
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts[:1]
    }


def markdown_unescaped(text: str) -> str:
    """Markdown source with CommonMark's backslash escapes of ASCII punctuation undone: the text a reader sees."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def run(command: list, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


def python_version_of(python: str) -> tuple | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, timeout=30
        )
    except OSError:
        return None
    return tuple(map(int, out.stdout.split())) if out.returncode == 0 else None


def find_python(version: str) -> str | None:
    """A working interpreter of that version: on PATH, or in pyenv (whose shims may refuse to run)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}")] + [
        str(p) for p in pyenv_root.glob(f"versions/{version}*/bin/python{version}")
    ]
    for candidate in filter(None, candidates):
        if python_version_of(candidate) == tuple(map(int, version.split("."))):
            return candidate
    return None


def env_with_uv() -> dict:
    """The environment with this test run's uv first on PATH, as a user who has uv installed."""
    from uv import find_uv_bin

    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(find_uv_bin()).parent), env.get("PATH", "")])
    return env


@functools.cache
def tensorflow_only() -> tuple:
    """The paths a project without TensorFlow leaves out, as hooks/post_gen_project.py lists them in
    TENSORFLOW_ONLY ({package}: the package's folder). Read from the hook's syntax tree: the hook is a Jinja
    template (its answers are rendered in), so it cannot be imported, and the list exists once."""
    tree = ast.parse((TEMPLATE / "hooks" / "post_gen_project.py").read_text(encoding="utf-8"))
    (value,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["TENSORFLOW_ONLY"]
    ]
    return ast.literal_eval(value)


def lock_entries(text: str) -> list:
    """The pins of a requirements lock (its hash and comment lines skipped)."""
    return [Requirement(line.rstrip(" \\")) for line in text.splitlines() if line and line[0].isalnum()]


def environment(platform: str, python: str) -> dict:
    """Marker variables of a platform, read from the stack table's own marker for it."""
    marker = STACKS["platforms"][platform]["marker"]
    return dict(re.findall(r"(\w+) == '([^']+)'", marker)) | {
        "python_version": python,
        "python_full_version": f"{python}.0",
    }


def applicable(requirements, env: dict) -> list:
    return [req for req in requirements if req.marker is None or req.marker.evaluate(env)]


def pins_for(entries, env: dict) -> dict:
    pins = {}
    for req in applicable(entries, env):
        assert req.name not in pins, f"{req.name} is pinned twice for {env}"
        (spec,) = req.specifier
        assert spec.operator == "==", f"{req} is not an exact pin"
        pins[req.name] = spec.version
    return pins


def lock_text(stack_id: str) -> str:
    return (TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{stack_id}.txt").read_text(encoding="utf-8")


def locked_keras(stack_id: str, platform: str, python: str = "3.11") -> str:
    """The Keras version the stack's lock installs on that platform (its entries' markers decide)."""
    return pins_for(lock_entries(lock_text(stack_id)), environment(platform, python))["keras"]


def mac_only_keras_stacks() -> list:
    """The stacks whose lock gives Apple Silicon another Keras than Linux (where every test here runs)."""
    return [
        stack_id
        for stack_id in STACKS["stacks"]
        if locked_keras(stack_id, "apple_silicon") != locked_keras(stack_id, "linux_x86_64")
    ]


def is_torch(stack_id: str) -> bool:
    """A stack whose Keras runs on PyTorch (no TensorFlow, the Apple GPU through MPS)."""
    return STACKS["stacks"][stack_id]["backend"] == "torch"


TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-macos", "tensorflow-cpu", "tensorflow-intel", "tf-keras")


def assert_metal_pair_loads(pins: dict, stack_id: str):
    """Exactly the stack's Metal plug-in, and one that loads the pinned TensorFlow: Apple's by the loading
    matrix, the community one by the TensorFlow version it is built for. A torch stack's Apple GPU is PyTorch's
    own MPS: its pins hold the table's torch, and no TensorFlow and no Metal plug-in at all."""
    if is_torch(stack_id):
        assert pins.get("torch") == STACKS["stacks"][stack_id]["torch"], f"{stack_id}: {pins.get('torch')}"
        unwanted = [name for name in (*TENSORFLOW_DISTRIBUTIONS, *STACKS["metal_providers"]) if name in pins]
        assert unwanted == [], f"{stack_id}: {unwanted}"
        return
    tf_version = pins.get("tensorflow") or pins["tensorflow-macos"]
    provider = STACKS["stacks"][stack_id]["metal_provider"]
    assert [name for name in STACKS["metal_providers"] if name in pins] == [provider], f"{stack_id}: {pins}"
    if provider == "tensorflow-metal":
        minor = ".".join(tf_version.split(".")[:2])
        assert minor in STACKS["metal_loads"][pins[provider]], (
            f"{stack_id}: tensorflow-metal {pins[provider]} does not load TensorFlow {tf_version}"
        )
    else:
        assert STACKS["metal_providers"][provider]["built_for"][pins[provider]] == tf_version, stack_id


@functools.cache  # most files are the same in every bake: checking one text once is enough
def assert_rendered_and_parsing(suffix: str, text: str) -> None:
    """No Jinja left (GitHub Actions' `${{ }}` expressions are kept verbatim on purpose) and it parses."""
    rendered = re.sub(r"\$\{\{ [^}]+ \}\}", "", text)
    assert not re.search(r"\{\{|\{%|\{#", rendered), "unrendered Jinja"
    if suffix == ".py":
        ast.parse(text)
    elif suffix in (".yaml", ".yml"):
        yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - the safe loaders only
    elif suffix == ".toml":
        tomllib.loads(text)
    elif suffix in (".json", ".ipynb"):
        json.loads(text)
