"""python -m {{ cookiecutter.package_name }}.migrate PATH [--out DIR] [--json] [--apply OUTTREE]

Analyse a legacy TensorFlow project (read-only) and write MIGRATION.md and requirements.txt into --out.
Exit 0 when the analysis ran, findings or not; 2 with one line when an argument is refused (PATH is
not a folder, --out already holds a report or lies inside PATH, OUTTREE is not empty or overlaps PATH).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from . import codes
from .analysis import analyse
from .report import as_json, markdown, summary

PACKAGE = __package__.rsplit(".", 1)[0]


class Refused(Exception):
    """An argument that would lose or change something: one line, exit 2."""


def inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def checked_arguments(args) -> tuple:
    root = Path(args.path).expanduser()
    if not root.is_dir():
        raise Refused(f"{args.path} does not exist or is not a folder: give the legacy project's folder")
    root = root.resolve()
    out = Path(args.out).expanduser().resolve()
    if inside(out, root):
        raise Refused(f"--out {out} is inside the legacy project, which is never written to: choose another folder")
    if out.exists() and not out.is_dir():
        raise Refused(f"--out {out} is a file: give a folder")
    if (out / "MIGRATION.md").exists():
        raise Refused(f"{out / 'MIGRATION.md'} already exists (an earlier report): pass --out NEWDIR or move it away")
    outtree = None
    if args.apply:
        outtree = Path(args.apply).expanduser().resolve()
        if inside(outtree, root) or inside(root, outtree):
            raise Refused(f"--apply {outtree} overlaps the legacy project: the copy must go to a separate folder")
        if outtree.exists() and (not outtree.is_dir() or any(outtree.iterdir())):
            raise Refused(f"--apply {outtree} exists and is not an empty folder: give a new one")
    return root, out, outtree


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PACKAGE}.migrate",
        description="Analyse a legacy TensorFlow project for this project's stacks (it is only read).",
    )
    parser.add_argument("path", help="the legacy project's folder")
    parser.add_argument("--out", default="migration", help="where MIGRATION.md and requirements.txt go")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--apply", metavar="OUTTREE", help="also write a migrated copy into this new folder")
    args = parser.parse_args(argv)
    try:
        root, out, outtree = checked_arguments(args)
    except Refused as refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2

    analysis = analyse(root, exclude=(out,))
    out.mkdir(parents=True, exist_ok=True)
    if outtree is not None:
        from .apply import apply  # LibCST and the copy only when asked

        analysis.applied = apply(root, outtree, analysis.hits, analysis.own_keras, out, analysis.own_stack)
        analysis.hits += analysis.applied.hits()  # what --apply could not upgrade is a finding too
        analysis.findings = codes.judge(analysis.hits, analysis.keras, analysis.stack_id)
        target = (
            f"the fixes are for Keras {analysis.own_keras}, this project's stack ({analysis.own_stack}), "
            "whose .venv runs the copy"
        )
        if analysis.stack_id != analysis.own_stack:
            target += (
                f"; for the recommended {analysis.stack_id}, regenerate with the command in this report "
                "and run --apply in that project"
            )
        analysis.applied.notes.insert(0, target)
    report, requirements = out / "MIGRATION.md", out / "requirements.txt"
    report.write_text(markdown(analysis, PACKAGE, datetime.date.today().isoformat()), encoding="utf-8")
    requirements.write_text("\n".join(analysis.requirements) + "\n", encoding="utf-8")
    written = [report, requirements]
    if analysis.requirements_dev:
        written.append(out / "requirements-dev.txt")
        written[-1].write_text("\n".join(analysis.requirements_dev) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(as_json(analysis), indent=2))
    else:
        print(summary(analysis, written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
