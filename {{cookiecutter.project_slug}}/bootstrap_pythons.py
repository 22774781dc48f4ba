"""Which Python .venv is built on: the interpreters on this machine, probed, and the choice among them.

Standard library only, loaded by bootstrap.py from beside it (it runs before any .venv exists). The choice
is a function of the probed facts (version, architecture, the base interpreter behind a virtualenv), so the
tests replace probe() and candidate_pythons() with fakes; a refusal is a LookupError whose message is the
one line bootstrap.py prints.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Version, arch, and the base interpreter behind a virtualenv's (a tool's throwaway venv must not be .venv's base).
PROBE = (
    "import platform, sys; print('%d.%d.%d' % sys.version_info[:3], platform.machine(), "
    "getattr(sys, '_base_executable', '') or sys.executable)"
)


def probe(python: str) -> tuple | None:
    """(version tuple, arch, base interpreter) of an interpreter, or None if it does not run (pyenv shims
    without a matching version installed exit non-zero)."""
    try:
        out = subprocess.run(  # noqa: S603 - runs a candidate interpreter found on this machine, no shell
            [python, "-c", PROBE], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    version, arch, base = out.stdout.strip().split(" ", 2)
    return tuple(int(part) for part in version.split(".")), arch, base


def candidate_pythons(versions: list, uv: list | None):
    """Interpreters to try, most wanted version first: versioned names on PATH, pyenv, uv, the usual
    install places of Homebrew and python.org. A generator, so nothing is looked up past the first hit."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    seen = set()
    for version in versions:
        found = [shutil.which(f"python{version}")]
        found += [str(p) for p in sorted(pyenv_root.glob(f"versions/{version}*/bin/python{version}"), reverse=True)]
        if uv:
            # --system: never offer a virtualenv's Python (.venv itself, or an activated one) as the base
            out = subprocess.run(  # noqa: S603 - the uv found by find_uv, with an argument list
                uv + ["python", "find", "--system", "--no-python-downloads", version], capture_output=True, text=True
            )
            found.append(out.stdout.strip() if out.returncode == 0 else None)
        prefixes = (
            "/opt/homebrew/bin",
            "/usr/local/bin",
            f"/Library/Frameworks/Python.framework/Versions/{version}/bin",
        )
        found += [f"{prefix}/python{version}" for prefix in prefixes]
        for path in found:
            if path and path not in seen and Path(path).exists():
                seen.add(path)
                yield path


def choose_python(stack, machine, requested: str | None, uv: list | None) -> tuple:
    """probe() facts of the base interpreter for .venv: --python if given, else the project's
    python_version, else the running Python if the stack supports it, else any supported one found."""
    want_arch = "arm64" if machine.platform_key == "apple_silicon" else None

    def usable(python: str) -> tuple | None:
        facts = probe(python)
        if facts and stack.supports_python(facts[0]) and want_arch in (None, facts[1]):
            return facts
        return None

    supported = ", ".join(stack.pythons)
    if requested:
        found = usable(requested)
        if not found:
            raise LookupError(
                f"--python {requested} is not a working Python {supported}{' for arm64' if want_arch else ''}."
            )
        return found
    preferred = [stack.preferred_python] + [v for v in reversed(stack.pythons) if v != stack.preferred_python]
    candidates = itertools.chain(
        candidate_pythons(preferred[:1], uv), [sys.executable], candidate_pythons(preferred[1:], uv)
    )
    for python in candidates:
        found = usable(python)
        if found:
            return found
    running = "{}.{}".format(*sys.version_info[:2])
    raise LookupError(
        f"No Python {supported} found (this one is {running}; the {stack.id} stack needs {supported}). "
        f"Install one (`uv python install {stack.preferred_python}`, `brew install python@{stack.preferred_python}` "
        f"or `pyenv install {stack.preferred_python}`) and run this again, or name it: "
        f'`python3 bootstrap.py --python "$(uv python find {stack.preferred_python})"`.'
    )
