"""Check that the suggested requirements resolve for macOS arm64, with uv, and relax what cannot.

`uv pip compile --python-platform aarch64-apple-darwin --python-version <stack python> --only-binary :all:`
resolves for a Mac from any machine, from wheels only (an old pin that exists only as an sdist would
have to compile on the Mac, which is what usually fails). When it fails, the first of the project's
own lines that uv names is relaxed (its version pin removed) or, when it has no pin left, dropped;
then uv runs again. The stack's lines are never touched. Without uv, or without the index, the check
is skipped and the report says so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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


@dataclass
class Check:
    status: str  # "passed", "relaxed" (passed after changes), "skipped", or "failed" (uv kept failing)
    detail: str
    changes: list = field(default_factory=list)  # (name, line before, line after or None, uv's reason)

    def as_dict(self) -> dict:
        changes = [dict(zip(("name", "before", "after", "reason"), change, strict=True)) for change in self.changes]
        return {"status": self.status, "detail": self.detail, "changes": changes}


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
    stack: list, own: list, python: str, uv: str | None = None, compile_=uv_compile, source_builds: tuple = ()
) -> tuple:
    """(Check, own lines that resolve) for the stack's lines plus the project's own lines; `source_builds`
    are the stack's packages that install from source."""
    uv = uv if uv is not None else shutil.which("uv")
    if not uv:
        return Check("skipped", "uv is not on PATH: the requirements were not checked"), own
    if os.environ.get("UV_OFFLINE", "").lower() in ("1", "true", "yes"):
        return Check("skipped", "uv is offline (UV_OFFLINE): the package index is not reachable, not checked"), own
    own, changes = list(own), []
    for _ in range(2 * len(own) + 1):
        try:
            result = compile_(uv, stack + own, python, source_builds)
        except (OSError, subprocess.SubprocessError) as error:
            return Check("skipped", f"uv could not run ({error}): the requirements were not checked"), own
        if result.returncode == 0:
            status = "relaxed" if changes else "passed"
            detail = f"resolved with uv for macOS arm64 and Python {python}"
            return Check(status, detail + (f" after {len(changes)} change(s)" if changes else ""), changes), own
        if any(sign in result.stderr.lower() for sign in OFFLINE_SIGNS):
            why = reason_of(result.stderr)
            return Check("skipped", f"the package index is not reachable: not checked ({why})", changes), own
        index = first_named(result.stderr, own)
        if index is None:
            # The stack's pins resolve (the template's tests check every lock), so the index or the
            # cache is what failed; uv does not always say so when the lines carry markers.
            why = f"uv could not resolve even the stack's own pins ({reason_of(result.stderr)})"
            return Check("skipped", f"the package index is not reachable: not checked; {why}", changes), own
        before, after = own[index], relaxed(own[index])
        changes.append((canonicalize_name(Requirement(before).name), before, after, reason_of(result.stderr)))
        own = own[:index] + ([after] if after else []) + own[index + 1 :]
    return Check("failed", "uv still cannot resolve after relaxing every line", changes), own
