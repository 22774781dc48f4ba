"""The outputs of an analysis: MIGRATION.md, requirements.txt, the JSON object and the short summary."""

from __future__ import annotations

from collections import Counter

from .codes import CODES

NOT_CHECKED = """\
- what the code does at run time: imports built from strings, monkey-patching, code generated on the fly;
- numerical results: run the project's training on the new stack and compare losses and metrics
  (Metal has known numerical issues; `python -m {package}.doctor` checks the installed pair);
- custom ops and C/C++/CUDA extensions, Dockerfiles, shell scripts, CI files and data files;
- saved models and checkpoints: whether an old .h5 or SavedModel loads in the new Keras;
- Python 2 files beyond saying so, and files that do not parse (their findings are PY001 / PY002);
- files larger than 1 MB (a notebook: 1 MB of code), hidden folders, virtualenvs and conda environments (skipped);
- private TensorFlow and Keras modules (`tensorflow.python`, `keras.src`) and attributes of classes."""


def cell(text) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def table(headers: list, rows: list) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def counts(analysis) -> str:
    severities = Counter(finding.severity for finding in analysis.findings)
    actions = Counter(dependency.action for dependency in analysis.dependencies)
    found = ", ".join(f"{severities[s]} {s}" for s in ("error", "warning", "info") if severities[s]) or "none"
    judged = ", ".join(f"{actions[a]} {a}" for a in ("keep", "replace", "drop", "flag") if actions[a]) or "none"
    return (
        f"{len(analysis.findings)} findings ({found}) in {analysis.files} Python files and notebooks; "
        f"{len(analysis.dependencies)} dependencies ({judged})"
    )


def as_json(analysis) -> dict:
    applied = analysis.applied
    return {
        "legacy_project": str(analysis.root),
        "recommended_stack": analysis.stack_id,
        "stack_reason": analysis.reason,
        "stack_python": analysis.python,
        "project_stack": analysis.own_stack,
        "regenerate_command": analysis.regenerate,
        "findings": [finding.as_dict() for finding in analysis.findings],
        "dependencies": [dependency.as_dict() for dependency in analysis.dependencies],
        "requirements": analysis.requirements,
        "requirements-dev": analysis.requirements_dev,
        "requirements_check": analysis.check.as_dict(),
        "applied": None
        if applied is None
        else {
            "outtree": str(applied.outtree),
            "changed": applied.changed,
            "notes": applied.notes,
            "not_upgraded": [
                {"path": path, "cell": cell, "tool": tool, "reason": reason}
                for path, cell, tool, reason in applied.failed
            ],
        },
    }


def markdown(analysis, package: str, today: str) -> str:
    parts = [
        f"# Migration report: {analysis.root}",
        f"Made by `python -m {package}.migrate` on {today}, with the stack table of this project "
        f"(generated for `{analysis.own_stack}`). The legacy tree was only read.",
        f"## Recommended stack: `{analysis.stack_id}`",
        analysis.reason + ".",
    ]
    if analysis.regenerate:
        parts.append(
            "This project was generated for another stack. To generate it again for this one (run it outside "
            "this project's folder, or add `-o DIR`):\n\n```bash\n" + analysis.regenerate + "\n```"
        )
    else:
        parts.append("This project already uses it: no regeneration needed.")
    parts += ["## Summary", counts(analysis) + "."]
    parts.append("## Findings")
    if analysis.findings:
        rows = [(f.path, f.line, f.cell, f.code, f.severity, f.message, f.fix) for f in analysis.findings]
        parts.append(table(["file", "line", "cell", "code", "severity", "what and why", "fix"], rows))
    else:
        parts.append("None: nothing in the code needs to change for this stack.")
    parts.append("## Dependencies")
    if analysis.dependencies:
        rows = [(d.name, d.spec, d.source, d.action, d.note) for d in analysis.dependencies]
        parts.append(table(["name", "spec", "source", "action", "note"], rows))
    else:
        parts.append(
            "None declared (no requirements*.txt, environment.yml, pyproject.toml, setup.cfg, setup.py or Pipfile)."
        )
    check = analysis.check
    parts += [
        "## Suggested requirements (requirements.txt)",
        "The stack's own lines (with platform markers, as in this project's pyproject.toml), then the "
        "project's other dependencies:\n\n```\n" + "\n".join(analysis.requirements) + "\n```",
        f"Resolution check for macOS arm64, Python {analysis.python}: **{check.status}**: {check.detail}.",
    ]
    parts += [f"- `{before}` -> `{after or '(dropped)'}`: {why}" for _, before, after, why in check.changes]
    if analysis.requirements_dev:
        parts.append(
            "Test and lint tools (requirements-dev.txt; not checked, never in the runtime requirements):\n\n```\n"
            + "\n".join(analysis.requirements_dev)
            + "\n```"
        )
    if analysis.applied is not None:
        applied = analysis.applied
        parts += ["## Migrated copy", f"Written to `{applied.outtree}`; {copy_summary(applied)}."]
        parts += [f"- {note}" for note in applied.notes]
        if applied.failed:
            parts.append("Not upgraded, copied unchanged (upgrade them by hand):")
            parts += [
                f"- `{path}`" + (f" cell {cell}" if cell is not None else "") + f": {tool}: {reason}"
                for path, cell, tool, reason in applied.failed
            ]
        if applied.diff:
            parts.append("```diff\n" + applied.diff + "```")
    parts += ["## What this report does not check", NOT_CHECKED.format(package=package)]
    used = sorted({f.code for f in analysis.findings})
    if used:
        parts += ["## Codes", table(["code", "title", "why"], [(c, CODES[c].title, CODES[c].why) for c in used])]
    return "\n\n".join(parts) + "\n"


def copy_summary(applied) -> str:
    said = f"{len(applied.changed)} file(s) changed"
    failed = applied.failed_names()
    if failed:
        said += f"; {len(failed)} not upgraded, copied unchanged: {', '.join(failed)}"
    return said


def summary(analysis, written: list) -> str:
    lines = [
        f"analysed {analysis.root}: {counts(analysis)}",
        f"recommended stack: {analysis.stack_id} ({analysis.reason})",
        f"requirements check: {analysis.check.status} ({analysis.check.detail})",
        "wrote " + " and ".join(str(path) for path in written),
    ]
    if analysis.applied is not None:
        lines.append(f"migrated copy: {analysis.applied.outtree} ({copy_summary(analysis.applied)})")
    if analysis.regenerate:
        lines.append(f"regenerate for {analysis.stack_id}: {analysis.regenerate}")
    return "\n".join(lines)
