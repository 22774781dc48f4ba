"""Check that the suggested requirements resolve for macOS arm64, with uv, and relax what cannot.

`uv pip compile --python-platform aarch64-apple-darwin --python-version <stack python> --only-binary :all:`
resolves for a Mac from any machine, from wheels, as the Mac would install them. A package that has no
macOS arm64 wheel for the pinned version is probed: its sdist is built here with the C and C++
compilers disabled (`uv pip install --no-binary NAME --target ...`); when that works and leaves no
compiled module, it is pure Python and installs on the Mac too, so the pin is kept and uv may use its
sdist (`--no-binary NAME`). Only a pin that does not resolve, or whose sdist needs compiling, is relaxed
(its version pin removed) or, when it has no pin left, dropped, with the reason; then uv runs again.
The stack's lines are never touched. Without uv, or without the index, the check is skipped and the
report says so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PLATFORM = "aarch64-apple-darwin"
OFFLINE_SIGNS = (
    "network was disabled",
    "failed to fetch",
    "error sending request",
    "dns error",
    "tcp connect error",
    "connection refused",
    "timed out",
)


WITHOUT_WHEEL = re.compile(r"Because ([A-Za-z0-9][\w.\-]*)==([^\s,]+) has no (?:usable )?wheels")
COMPILED = (".so", ".pyd", ".dylib")


@dataclass
class Check:
    status: str  # "passed", "relaxed" (passed after changes), "skipped", or "failed" (uv kept failing)
    detail: str
    changes: list = field(default_factory=list)  # (name, line before, line after or None, uv's reason)
    sdists: list = field(default_factory=list)  # "name==version" without a Mac wheel, pure Python: kept

    def as_dict(self) -> dict:
        changes = [dict(zip(("name", "before", "after", "reason"), change, strict=True)) for change in self.changes]
        return {"status": self.status, "detail": self.detail, "changes": changes, "pure_python_sdists": self.sdists}


def sdist_is_pure(uv: str, name: str, version: str) -> str | None:
    """None when the sdist of name==version builds here without a compiler into pure Python; else why not."""
    with tempfile.TemporaryDirectory() as folder:
        command = [uv, "pip", "install", "--quiet", "--no-deps", "--no-binary", name, "--target", folder]
        command += ["--python", sys.executable, f"{name}=={version}"]
        env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", CC="false", CXX="false")  # compiling fails at once
        try:
            # an argument list for uv; the package name comes from uv's own message
            result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)  # noqa: S603 - see above
        except (OSError, subprocess.SubprocessError) as error:
            return f"its sdist could not be built here ({type(error).__name__})"
        if result.returncode != 0:
            return "its sdist does not build without a compiler (it needs compiling on the Mac)"
        compiled = [path.name for path in Path(folder).rglob("*") if path.suffix in COMPILED]
        return f"its sdist builds compiled modules ({', '.join(compiled[:3])})" if compiled else None


def uv_compile(uv: str, lines: list, python: str, source_builds: tuple = ()) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.in"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [uv, "pip", "compile", str(requirements), "--python-platform", PLATFORM]
        # Wheels only: a pin that would have to be compiled on the Mac (an old sdist) does not count;
        # except what the stack itself builds from source at install (the community Metal plug-in).
        command += ["--python-version", python, "--only-binary", ":all:", "--no-header", "--quiet"]
        for name in source_builds:
            command += ["--no-binary", name]
        env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
        # an argument list for uv; the project's requirements are arguments, never shell text
        return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)  # noqa: S603 - see above


def relaxed(line: str) -> str | None:
    """The line without its version pin; None when there is no pin left to remove."""
    requirement = Requirement(line)
    if not requirement.specifier:
        return None
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return requirement.name + extras + (f"; {requirement.marker}" if requirement.marker else "")


def first_named(message: str, lines: list) -> int | None:
    """Index of the line whose package uv's message names first."""
    text = message.lower().replace("_", "-")
    best = None
    for index, line in enumerate(lines):
        name = canonicalize_name(Requirement(line).name)
        found = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), index)
    return best[1] if best else None


def reason_of(stderr: str) -> str:
    for line in stderr.splitlines():
        if "Because" in line:
            return line.strip().removeprefix("cause: ")
    return (stderr.strip().splitlines() or ["uv failed"])[-1].strip()


def check(
    stack: list,
    own: list,
    python: str,
    uv: str | None = None,
    compile_=uv_compile,
    source_builds: tuple = (),
    probe=sdist_is_pure,
) -> tuple:
    """(Check, own lines that resolve) for the stack's lines plus the project's own lines; `source_builds`
    are the stack's packages that install from source; `probe` says why an sdist is not pure Python."""
    uv = uv if uv is not None else shutil.which("uv")
    if not uv:
        return Check("skipped", "uv is not on PATH: the requirements were not checked"), own
    if os.environ.get("UV_OFFLINE", "").lower() in ("1", "true", "yes"):
        return Check("skipped", "uv is offline (UV_OFFLINE): the package index is not reachable, not checked"), own
    own, changes, pure, probed = list(own), [], [], {}
    for _ in range(3 * len(own) + 1):
        try:
            result = compile_(uv, stack + own, python, tuple(source_builds) + tuple(n for n, _ in pure))
        except (OSError, subprocess.SubprocessError) as error:
            return Check("skipped", f"uv could not run ({error}): the requirements were not checked"), own
        sdists = [f"{name}=={version}" for name, version in pure]
        if result.returncode == 0:
            status = "relaxed" if changes else "passed"
            detail = f"resolved with uv for macOS arm64 and Python {python}"
            detail += f" after {len(changes)} change(s)" if changes else ""
            detail += f"; from pure-Python sdists: {', '.join(sdists)}" if sdists else ""
            return Check(status, detail, changes, sdists), own
        if any(sign in result.stderr.lower() for sign in OFFLINE_SIGNS):
            why = reason_of(result.stderr)
            return Check("skipped", f"the package index is not reachable: not checked ({why})", changes), own
        without_wheel = WITHOUT_WHEEL.search(result.stderr)
        if without_wheel:
            name, version = canonicalize_name(without_wheel.group(1)), without_wheel.group(2)
            if (name, version) not in probed:
                probed[name, version] = probe(uv, name, version)
                if probed[name, version] is None:
                    pure.append((name, version))
                    continue
        index = first_named(result.stderr, own)
        if index is None:
            # The stack's pins resolve (the template's tests check every lock), so the index or the
            # cache is what failed; uv does not always say so when the lines carry markers.
            why = f"uv could not resolve even the stack's own pins ({reason_of(result.stderr)})"
            return Check("skipped", f"the package index is not reachable: not checked; {why}", changes), own
        before, after = own[index], relaxed(own[index])
        why = reason_of(result.stderr)
        if without_wheel and probed.get((name, version)):
            why = f"{name}=={version} has no macOS arm64 wheel and {probed[name, version]}"
        changes.append((canonicalize_name(Requirement(before).name), before, after, why))
        own = own[:index] + ([after] if after else []) + own[index + 1 :]
    return Check("failed", "uv still cannot resolve after relaxing every line", changes), own
