"""Regenerate the template's locks: bake each stack, run the project's own `make lock`, copy it back.

    python tests/relock.py [STACK ...]

Needs cookiecutter, uv and make, and reaches the package index. tests/test_locks.py then checks
every lock against the stack table and the generated pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers import STACKS, TEMPLATE, bake

LOCKS = TEMPLATE / "{{cookiecutter.project_slug}}" / "locks"


def relock(stack_id: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        project = bake(Path(tmp), tensorflow_stack=stack_id)
        subprocess.run(["make", "lock"], cwd=project, check=True)
        target = LOCKS / f"{stack_id}.txt"
        shutil.copyfile(project / "requirements.lock", target)
        if (project / "requirements-cuda.lock").exists():
            shutil.copyfile(project / "requirements-cuda.lock", LOCKS / f"{stack_id}.cuda.txt")
    return target


if __name__ == "__main__":
    for stack in sys.argv[1:] or list(STACKS["stacks"]):
        print(f"{stack}: {relock(stack)}")
