"""Fixtures shared by the template's tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from helpers import LEGACY_FIXTURES, bake_cli, env_with_uv


@pytest.fixture(scope="session", autouse=True)
def compile_each_template_once():
    """cookiecutter builds a new Jinja environment per bake and compiles every file again; the in-process
    bakes here (hundreds: every option combination, hypothesis) reuse the compiled code of an unchanged
    source instead. Rendering, hooks and files stay real; it halves a bake (0.8 s to 0.45 s)."""
    compile_source = jinja2.Environment.compile
    compiled = {}

    def compile_once(self, source, name=None, filename=None, raw=False, defer_init=False):
        key = (type(self), tuple(sorted(self.extensions)), source, name, filename, raw, defer_init)
        if key not in compiled:
            compiled[key] = compile_source(self, source, name, filename, raw, defer_init)
        return compiled[key]

    jinja2.Environment.compile = compile_once
    yield
    jinja2.Environment.compile = compile_source


@pytest.fixture(scope="session")
def bootstrapped(bootstrapped_run) -> Path:
    return bootstrapped_run[0]


@pytest.fixture(scope="session")
def bootstrapped_output(bootstrapped_run) -> str:
    return bootstrapped_run[1]


@pytest.fixture(scope="session")
def bootstrapped_run(tmp_path_factory) -> tuple:
    """The default project, generated and bootstrapped once by the real post-gen hook (uv, warm cache),
    while a decoy outside virtualenv is activated that must stay untouched; the hook then analyses the
    Keras 2.4 legacy fixture (legacy_project) into the project's migration/."""
    base = tmp_path_factory.mktemp("bootstrapped")
    decoy = base / "decoy-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(decoy)], check=True)
    before = sorted(p.relative_to(decoy) for p in decoy.rglob("*"))
    # PYTHONDONTWRITEBYTECODE=1 as in many shells and container images: only the installer writes bytecode.
    env = env_with_uv() | {"VIRTUAL_ENV": str(decoy), "PYTHONDONTWRITEBYTECODE": "1"}
    # A copy: cookiecutter renders answers as Jinja, and the template's own path holds "{{cookiecutter...}}".
    legacy = shutil.copytree(LEGACY_FIXTURES / "keras24_gpu", base / "legacy projects" / "keras 2.4")
    result = bake_cli(base / "out", "bootstrap=auto", f"legacy_project={legacy}", env=env)
    assert result.returncode == 0, result.stderr
    project = base / "out" / "keras-metal-project"
    assert (project / ".venv" / "bin" / "python").exists(), result.stdout + result.stderr
    assert sorted(p.relative_to(decoy) for p in decoy.rglob("*")) == before, "bootstrap wrote into VIRTUAL_ENV"
    return project, result.stdout


def pytest_configure(config):
    config.addinivalue_line("markers", "network: needs the package index (PyPI); CI runs these too")
    config.addinivalue_line("markers", "installs_a_stack: installs a stack of its own (minutes)")


def pytest_collection_modifyitems(items):
    """For the README's `-n 2 --dist loadgroup` (pytest-xdist): the tests sharing the bootstrapped default
    project run on one worker, which builds it once; the tests that install a stack of their own start
    first, so that the two workers finish together."""
    for item in items:
        if "bootstrapped_run" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("bootstrapped"))
    items.sort(key=lambda item: item.get_closest_marker("installs_a_stack") is None)
