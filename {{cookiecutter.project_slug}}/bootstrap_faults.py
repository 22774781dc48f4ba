"""What can go wrong while bootstrap.py sets the project up, recognised and said in one line with the cure.

Standard library only, loaded by bootstrap.py from beside it (it runs before any .venv exists):
- run_step: runs an installer (or the doctor) with an argument list, never a shell; its output is copied to
  stdout as it comes, and a failure is named from it: the index cannot be reached, a download differs from
  the lock (hash mismatch), the installer was killed by a signal;
- the .venv's health: a venv is reused only when its Python still runs, is the Python it was made with,
  and an earlier bootstrap finished installing into it (the completion marker below); anything else is
  rebuilt, never installed into; a reused one whose framework (TensorFlow, or PyTorch) lacks compiled
  bytecode gets the stack reinstalled;
- a project folder that cannot be written.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path


class BootstrapError(Exception):
    """A problem the user can fix; the message (one line) says what happened and what to do."""


# Written into .venv after the last install step succeeds and removed before the first: a .venv without it
# was left by a run that was killed, interrupted or failed mid-install, so which of its packages are whole is
# unknown. Such a .venv is rebuilt: a SIGKILL at any moment leaves a state the next run completes from.
COMPLETE_MARKER = "bootstrap-complete"

HASH_MISMATCH = (
    re.compile(r"hash mismatch for `?([^\s`]+)", re.I),  # uv
    re.compile(r"THESE PACKAGES DO NOT MATCH THE HASHES"),  # pip
)
UNREACHABLE = re.compile(
    r"network connectivity is disabled|failed to fetch|error sending request|tcp connect error|dns error|"
    r"connection refused|could not connect|Max retries exceeded|NewConnectionError|Could not fetch URL|"
    r"No matching distribution found|not found in the cache|were unavailable because the network was disabled",
    re.I,
)
TAIL_LINES = 400  # enough of an installer's output to find the cause in


def run_step(step: str, command: list, cwd: Path, env: dict, otherwise: str) -> None:
    """Run one step, streaming its output (stderr merged into stdout, so bootstrap's own stderr holds only its
    error line); raise BootstrapError naming the cause when it fails. `otherwise` is the cure when the output
    names no known cause."""
    try:
        process = subprocess.Popen(  # noqa: S603 - an argument list built by bootstrap.py, no shell
            [str(part) for part in command],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as error:
        raise BootstrapError(f"{step} could not start: {error}.") from None
    tail = collections.deque(maxlen=TAIL_LINES)
    try:
        with process:
            for line in process.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                tail.append(line)
    except KeyboardInterrupt:
        stop(process)
        raise
    if process.returncode != 0:
        raise BootstrapError(failure(step, process.returncode, "".join(tail), otherwise))


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C reached us (and usually the child too): give the child a moment to stop, then kill it."""
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def failure(step: str, returncode: int, output: str, otherwise: str) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return (
            f"{step} was stopped: the process was killed by {name}, so .venv is half-installed; "
            "the next run rebuilds it."
        )
    for pattern in HASH_MISMATCH:
        found = pattern.search(output)
        if found:
            which = f" ({found.group(1)})" if found.groups() else ""
            return (
                f"{step} failed: a download differs from requirements.lock (hash mismatch{which}), so nothing "
                "from it was installed. If you edited requirements.lock, restore it "
                "(`git checkout requirements.lock`); if the index serves a different file, regenerate the lock on "
                "purpose (`make lock`)."
            )
    if UNREACHABLE.search(output):
        return (
            f"{step} failed: the package index cannot be reached (no network, a proxy, or an index setting such as "
            "UV_INDEX_URL / PIP_INDEX_URL): reconnect or fix the setting."
        )
    return f"{step} failed (exit status {returncode}); the cause is printed above. {otherwise}"


def check_writable(folder: Path) -> None:
    """The project folder must take .venv: try it, as permission bits do not tell the whole story."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise BootstrapError(
            f"the project folder {folder} is read-only ({error.strerror}), and .venv must be created in it: "
            f"make it writable (`chmod -R u+w {folder}`) or copy the project to a folder you can write."
        ) from None


def venv_python_gone(venv: Path) -> str | None:
    """Why .venv's interpreter cannot run at all (removed underneath it), or None."""
    python = venv / "bin" / "python"
    if python.is_symlink() and not python.exists():
        return f"its Python is gone ({python} points at {os.readlink(python)}, which no longer exists)"
    if not python.exists():
        return "it has no bin/python"
    return None


def venv_made_with(venv: Path) -> tuple | None:
    """(major, minor) of the Python .venv was created with, from pyvenv.cfg (venv writes `version`, uv
    `version_info`); None if unreadable."""
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"^version(?:_info)?\s*=\s*(\d+)\.(\d+)", text, flags=re.M)
    return (int(found.group(1)), int(found.group(2))) if found else None


def venv_problem(venv: Path, running: tuple | None, target: tuple) -> str | None:
    """Why the existing .venv must be rebuilt, or None to reuse it. `running` is probe() of its Python (version
    tuple, arch, base), `target` that of the chosen interpreter."""
    gone = venv_python_gone(venv)
    if gone:
        return gone
    if running is None:
        return "its Python no longer runs"
    version = ".".join(map(str, running[0]))
    made_with = venv_made_with(venv)
    if made_with is None:
        return "its pyvenv.cfg is missing or unreadable"
    if made_with != tuple(running[0][:2]):
        return (
            f"it was made with Python {made_with[0]}.{made_with[1]} and its Python is now {version} "
            "(upgraded underneath it), so its packages are for another Python"
        )
    if running[:2] != target[:2]:
        return f"it has Python {version} {running[1]}, not the chosen one"
    if not (venv / COMPLETE_MARKER).exists():
        return "an earlier set-up did not finish installing into it (interrupted, killed or failed)"
    return None


def framework_uncompiled(venv: Path, package: str) -> bool:
    """Whether .venv holds the stack's framework (`package`: tensorflow, or torch) without compiled bytecode (no .pyc
    of its __init__): installed by uv without --compile-bytecode, as bootstrap did before it asked for it. Where
    PYTHONDONTWRITEBYTECODE is set, every process then compiles the framework's sources again (thousands of modules:
    seconds per import); the doctor says so from inside .venv (environment.check_bytecode)."""
    inits = list(venv.glob(f"lib/python3*/site-packages/{package}/__init__.py"))
    return bool(inits) and not any(list(init.parent.glob("__pycache__/__init__.*.pyc")) for init in inits)
