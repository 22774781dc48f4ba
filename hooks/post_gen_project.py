"""Keep the chosen stack's lock as requirements.lock, then run bootstrap.py unless bootstrap=skip.

The hook always exits 0: a failing hook makes cookiecutter delete the project it just wrote, and an
install that fails (no network, no suitable Python) must never cost the user their project.
bootstrap.py prints what failed and how to retry.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")


def main():
    project = Path.cwd()
    (project / "locks" / f"{ANSWERS['tensorflow_stack']}.txt").replace(project / "requirements.lock")
    shutil.rmtree(project / "locks")
    mode = ANSWERS["bootstrap"]
    if mode == "skip":
        print(f"\nProject written to {project}\nSet it up later with: cd {project} && python3 bootstrap.py")
        return 0
    result = subprocess.run([sys.executable, "bootstrap.py", "--installer", mode], cwd=project)
    if result.returncode != 0:
        print(
            f"\nThe project was generated in {project} and kept; only its set-up failed (see above).", file=sys.stderr
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
