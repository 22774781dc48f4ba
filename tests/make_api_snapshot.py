"""Regenerate the migration tool's API snapshot: which TensorFlow and Keras names every stack has.

    python tests/make_api_snapshot.py [--python 3.11]

For each stack of cookiecutter.json with TensorFlow (the migration is TensorFlow's: a stack without it, such
as keras-torch, has no migrate package and is left out) it makes a throw-away virtualenv with uv, installs the stack's
TensorFlow for this machine (its Python API is the same as the Apple Silicon build's) with the Keras and
numpy that the stack pins on Apple Silicon, runs the generated package's migrate/apiwalk.py there (it
imports TensorFlow and Keras and lists their public modules), and merges the walks into
{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}/migrate/api_snapshot.json.gz. Needs uv
and the package index; a few minutes with a warm cache. Run it when a stack's pins change.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers import STACKS, TEMPLATE
from packaging.requirements import Requirement

MIGRATE = TEMPLATE / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}" / "migrate"
HERE = {"linux": "linux_x86_64" if platform.machine() == "x86_64" else "linux_aarch64", "darwin": "apple_silicon"}


def pins(stack: dict, python: str) -> list:
    """The stack's TensorFlow for this machine, its Keras as on Apple Silicon, its common bounds."""
    env = {"python_version": python, "python_full_version": f"{python}.0"}
    here = stack["requirements"].get(HERE.get(sys.platform, ""), stack["requirements"]["linux_x86_64"])

    def chosen(lines, names):
        requirements = [Requirement(line) for line in lines]
        return [
            f"{r.name}{r.specifier}"
            for r in requirements
            if r.name in names and (r.marker is None or r.marker.evaluate(env | {"sys_platform": "darwin"}))
        ]

    tensorflow = chosen(here, {"tensorflow", "tensorflow-cpu", "tensorflow-macos"})
    keras = chosen(stack["requirements"]["apple_silicon"], {"keras"})
    return tensorflow + keras + list(stack["common"])


def walk(stack_id: str, stack: dict, python: str, folder: Path) -> dict:
    venv = folder / stack_id
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run(["uv", "venv", "-q", "--python", python, str(venv)], check=True, env=env)
    lines = pins(stack, python)
    print(f"{stack_id}: {' '.join(lines)}", file=sys.stderr)
    subprocess.run(
        ["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *lines], check=True, env=env
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(MIGRATE / "apiwalk.py")], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default="3.11", help="a Python every stack supports")
    args = parser.parse_args()
    sys.path.insert(0, str(MIGRATE))
    from api import SNAPSHOT, merge  # the generated package's module, imported from the template's source

    with tempfile.TemporaryDirectory() as folder:
        walks = {
            stack_id: walk(stack_id, stack, args.python, Path(folder))
            for stack_id, stack in STACKS["stacks"].items()
            if stack["tensorflow"]
        }
    data = json.dumps(merge(walks), separators=(",", ":")).encode()
    SNAPSHOT.write_bytes(gzip.compress(data, 9, mtime=0))
    print(
        f"wrote {SNAPSHOT.relative_to(TEMPLATE)} ({SNAPSHOT.stat().st_size} bytes): "
        + json.dumps(merge(walks)["stacks"])
    )


if __name__ == "__main__":
    main()
