"""The experimental stack's install sequence on Apple Silicon, with fakes: bootstrap.py installs the locked
stack first, then builds the Metal plug-in from its sdist against that TensorFlow without build isolation
(uv and pip), keeps a build that still matches, and refuses a Mac that cannot compile it in one line.

No Mac and no real TensorFlow here: a fake `tensorflow` wheel and a fake plug-in sdist whose build records
how it was called are served from a local folder; bootstrap.py's own functions run for real on them."""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from fakes import sha256, write_wheel
from helpers import bake, env_with_uv

STACK_ID = "tensorflow-2.21-community"

# The fake plug-in's build backend lives in its sdist (so the build needs nothing from outside). It imports
# `tensorflow`, which only .venv has: the build succeeds only without isolation, and records what it saw.
FAKE_BACKEND = """
import json, os, sys
import tensorflow
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wheelmaker import write_wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.environ["FAKE_PLUGIN_RECORD"], "a") as record:
        record.write(json.dumps({"python": sys.executable, "tensorflow": tensorflow.__version__}) + "\\n")
    return write_wheel(wheel_directory, "tensorflow-metal-plugin", "0.4.1", {}).name
"""


def fake_plugin_sdist(folder: Path) -> Path:
    sdist = folder / "tensorflow_metal_plugin-0.4.1.tar.gz"
    members = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: tensorflow-metal-plugin\nVersion: 0.4.1\n",
        "pyproject.toml": b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": FAKE_BACKEND.encode(),
        "wheelmaker.py": inspect.getsource(write_wheel).encode(),
    }
    with tarfile.open(sdist, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(f"tensorflow_metal_plugin-0.4.1/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return sdist


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A baked experimental project whose lock points at the fakes, a local package folder in place of
    the index, an Apple Silicon Mac with its command line tools, and bootstrap.py loaded from the project."""
    project = bake(tmp_path / "out", tensorflow_stack=STACK_ID, python_version="3.11")
    packages = tmp_path / "packages"
    packages.mkdir()
    tensorflow = write_wheel(packages, "tensorflow", "2.21.0", {"tensorflow/__init__.py": b'__version__ = "2.21.0"\n'})
    sdist = fake_plugin_sdist(packages)
    (project / "requirements.lock").write_text(
        f"tensorflow==2.21.0 \\\n    --hash=sha256:{sha256(tensorflow)}\n"
        "tensorflow-metal-plugin==0.4.1 ; platform_machine == 'arm64' and sys_platform == 'darwin' \\\n"
        f"    --hash=sha256:{sha256(sdist)}\n"
    )
    tf_keras = write_wheel(packages, "tf_keras", "2.21.0", {"tf_keras/__init__.py": b""})
    (project / "requirements-tf-keras.lock").write_text(f"tf-keras==2.21.0 \\\n    --hash=sha256:{sha256(tf_keras)}\n")
    record = tmp_path / "builds.jsonl"
    for name, value in {
        "FAKE_PLUGIN_RECORD": str(record),
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(packages),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(packages),
        "PATH": env_with_uv()["PATH"],
    }.items():
        monkeypatch.setenv(name, value)

    spec = importlib.util.spec_from_file_location("bootstrap_community", project / "bootstrap.py")
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    monkeypatch.setattr(bootstrap, "build_tools_problem", lambda: None)
    apple_silicon = bootstrap.stack_info.Machine("Darwin", "arm64", rosetta=False, macos_version="15.1")
    return project, bootstrap, apple_silicon, record, packages


def builds(record: Path) -> list:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


@pytest.mark.parametrize("installer", ["uv", pytest.param("pip", marks=pytest.mark.network)])
def test_the_plugin_is_built_after_the_stack_against_its_tensorflow_and_kept_on_a_rerun(world, installer, capsys):
    project, bootstrap, apple_silicon, record, packages = world
    stack = bootstrap.stack_info.load_stack()
    uv = bootstrap.find_uv() if installer == "uv" else None
    bootstrap.ensure_venv(bootstrap.pythons.probe(sys.executable), uv)
    venv_python = project / ".venv" / "bin" / "python"
    if installer == "pip":  # pip builds the project in isolation: put its build backend beside the fakes
        env = {key: value for key, value in os.environ.items() if key != "PIP_NO_INDEX"}
        fetch = [
            venv_python,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--dest",
            packages,
            "hatchling",
            "editables",
        ]
        subprocess.run(fetch, env=env, check=True, capture_output=True)
    bootstrap.install(uv, stack, apple_silicon)

    (build,) = builds(record)
    assert build["tensorflow"] == "2.21.0"  # imported from .venv: the build was not isolated
    assert Path(build["python"]).parent == venv_python.parent
    out = capsys.readouterr().out
    first_install = out.index("installing the locked stack (hashes checked)")
    assert first_install < out.index("building tensorflow-metal-plugin against TensorFlow 2.21.0 (no build isolation)")
    assert "--no-build-isolation" in out and "--require-hashes" in out
    recorded = json.loads((project / ".venv" / "metal-plugin-build.json").read_text())
    assert recorded == {"plugins": {"tensorflow-metal-plugin": "0.4.1"}, "tensorflow": "2.21.0"}

    bootstrap.install(uv, stack, apple_silicon)  # again: nothing to rebuild
    assert len(builds(record)) == 1
    assert "tensorflow-metal-plugin 0.4.1 already built against TensorFlow 2.21.0: kept" in capsys.readouterr().out

    (project / ".venv" / "metal-plugin-build.json").write_text(json.dumps({"plugins": {}, "tensorflow": "2.20.0"}))
    bootstrap.install(uv, stack, apple_silicon)  # built against another TensorFlow: rebuilt
    assert len(builds(record)) == 2


def test_off_apple_silicon_the_plugin_is_neither_built_nor_installed(world):
    project, bootstrap, _, record, _ = world
    linux = bootstrap.stack_info.Machine("Linux", "x86_64", rosetta=False, macos_version="")
    uv = bootstrap.find_uv()
    bootstrap.ensure_venv(bootstrap.pythons.probe(sys.executable), uv)
    bootstrap.install(uv, bootstrap.stack_info.load_stack(), linux)
    assert builds(record) == [] and not (project / ".venv" / "metal-plugin-build.json").exists()


def test_a_mac_without_the_command_line_tools_is_refused_in_one_line(world, monkeypatch, tmp_path):
    bootstrap = world[1]
    monkeypatch.undo()  # the real build_tools_problem, with a PATH whose xcrun fails
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "xcrun").write_text("#!/bin/sh\necho 'xcrun: error: invalid active developer path' >&2\nexit 1\n")
    (tools / "xcrun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    problem = bootstrap.build_tools_problem()
    assert "\n" not in problem and "xcode-select --install" in problem and "`xcrun --show-sdk-path` fails" in problem

    (tools / "xcrun").write_text('#!/bin/sh\n[ "$1" = --show-sdk-version ] && echo 14.5 || echo /sdk\n')
    problem = bootstrap.build_tools_problem()
    assert "the macOS SDK is 14.5" in problem and "macOS 15 SDK" in problem

    (tools / "xcrun").write_text('#!/bin/sh\n[ "$1" = --show-sdk-version ] && echo 15.2 || echo /sdk\n')
    assert bootstrap.build_tools_problem() is None


def test_macos_older_than_15_is_refused_with_the_cure(world):
    bootstrap = world[1]
    sonoma = bootstrap.stack_info.Machine("Darwin", "arm64", rosetta=False, macos_version="14.6")
    problem = bootstrap.stack_info.machine_problem(sonoma, bootstrap.stack_info.load_stack())
    assert "macOS 14.6 is too old for tensorflow-metal-plugin (it needs macOS 15.0" in problem
    assert "update macOS" in problem
