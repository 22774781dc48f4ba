"""Regenerate the template's locks: bake each stack with jupyter=yes, run the project's own `make lock`
(one uv resolution), copy requirements.lock back as locks/<stack>.txt, requirements-jupyter.lock,
what ipykernel adds on top, as locks/<stack>.jupyter.txt, requirements-export.lock, what the export
tools add, as locks/<stack>.export.txt (and the CUDA and tf-keras locks likewise).

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


# Each generated lock file and the template lock it is copied to ({stack}: the stack's id).
LOCK_FILES = {
    "requirements.lock": "{stack}.txt",
    "requirements-jupyter.lock": "{stack}.jupyter.txt",
    "requirements-cuda.lock": "{stack}.cuda.txt",
    "requirements-tf-keras.lock": "{stack}.tf-keras.txt",
    "requirements-export.lock": "{stack}.export.txt",
}


def relock(stack_id: str) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        project = bake(Path(tmp), tensorflow_stack=stack_id, jupyter="yes", git_init="no")
        subprocess.run(["make", "lock"], cwd=project, check=True)
        targets = []
        for source, target in LOCK_FILES.items():
            if (project / source).exists():  # a CUDA lock only for a stack with a Linux CUDA build
                targets.append(LOCKS / target.format(stack=stack_id))
                shutil.copyfile(project / source, targets[-1])
    return targets


if __name__ == "__main__":
    for stack in sys.argv[1:] or list(STACKS["stacks"]):
        print(f"{stack}: {relock(stack)}")
