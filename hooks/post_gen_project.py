"""Keep the chosen stack's lock as requirements.lock, run bootstrap.py unless bootstrap=skip, then,
with legacy_project set, analyse that project into migration/ with the new .venv's Python.

The hook always exits 0: a failing hook makes cookiecutter delete the project it just wrote, and an
install or a migration that fails (no network, no suitable Python, a crash) must never cost the user
their project. bootstrap.py and the migration print what failed; this hook says how to retry.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")


def legacy_path(answer):
    """As in the pre-gen hook: a relative answer is read against the folder cookiecutter started in."""
    path = os.path.expanduser(answer.strip())
    return os.path.join(os.environ.get("PWD", ""), path) if not os.path.isabs(path) else path


def migrate(project, legacy, ready):
    """Analyse the legacy project into migration/; a failure is reported, never raised."""
    python = project / ".venv" / "bin" / "python"
    command = f".venv/bin/python -m {ANSWERS['package_name']}.migrate {shlex.quote(legacy)}"
    if not ready or not python.exists():
        print(f"\nThe legacy project was not analysed (no working .venv); after set-up run in {project}: {command}")
        return
    print(f"\nAnalysing the legacy project {legacy} into migration/ ...")
    try:
        result = subprocess.run([str(python), "-m", f"{ANSWERS['package_name']}.migrate", legacy], cwd=project)
        failed = result.returncode != 0
    except Exception as error:  # whatever happens here, the hook must exit 0 and keep the project
        print(f"error: {error}", file=sys.stderr)
        failed = True
    if failed:
        print(
            f"\nThe migration analysis failed (see above); the project is kept. Retry in {project}: {command}",
            file=sys.stderr,
        )


def main():
    project = Path.cwd()
    (project / "locks" / f"{ANSWERS['tensorflow_stack']}.txt").replace(project / "requirements.lock")
    cuda_lock = project / "locks" / f"{ANSWERS['tensorflow_stack']}.cuda.txt"
    if cuda_lock.exists():  # TensorFlow's CUDA build for Linux x86_64: bootstrap.py --accelerator cuda
        cuda_lock.replace(project / "requirements-cuda.lock")
    shutil.rmtree(project / "locks")
    mode = ANSWERS["bootstrap"]
    legacy = ANSWERS.get("legacy_project", "").strip()
    if mode == "skip":
        print(f"\nProject written to {project}\nSet it up later with: cd {project} && python3 bootstrap.py")
        if legacy:
            migrate(project, legacy_path(legacy), ready=False)
        return 0
    result = subprocess.run([sys.executable, "bootstrap.py", "--installer", mode], cwd=project)
    if result.returncode != 0:
        print(
            f"\nThe project was generated in {project} and kept; only its set-up failed (see above).", file=sys.stderr
        )
    if legacy:
        migrate(project, legacy_path(legacy), ready=result.returncode == 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
