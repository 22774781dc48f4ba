"""One analysis of a legacy tree: read, find, recommend, judge, suggest, check. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..runtime import stack
from . import codes, recommend, resolve
from .dependencies import read_dependencies
from .findings import scan_all
from .packages import judge
from .tree import read_sources, walk


@dataclass
class Analysis:
    root: Path
    own_stack: str
    own_keras: int  # the Keras of this project's stack: --apply fixes for it, since its .venv runs the copy
    stack_id: str
    reason: str
    python: str
    keras: int
    hits: list
    findings: list
    dependencies: list
    requirements: list
    requirements_dev: list  # test and lint tools: requirements-dev.txt
    check: resolve.Check
    regenerate: str | None
    files: int  # Python sources read (a notebook counts once)
    applied: object = None  # apply.Applied after --apply


def analyse(root: Path, exclude: tuple = (), check_requirements: bool = True, data: dict | None = None) -> Analysis:
    """Everything the report says about the tree at root (an existing folder)."""
    data = data or stack.read_stack_file()
    root = root.resolve()  # -r includes are resolved paths: one form for both
    files = walk(root, exclude)
    sources, hits = read_sources(root, files)
    hits += scan_all(sources)
    dependencies, dependency_hits = read_dependencies(root, files)
    hits += dependency_hits
    stack_id, reason = recommend.recommend(data, dependencies, hits)
    python = recommend.declared_python(dependencies)[0]
    target = recommend.target(data, stack_id, python)
    for dependency in dependencies:
        judge(dependency, target)
    stack_lines = recommend.stack_lines(data, stack_id)
    own = recommend.suggested_requirements(data, stack_id, dependencies)[len(stack_lines) :]
    if check_requirements:
        source_builds = tuple(data["table"]["stacks"][stack_id].get("build_from_source", ()))
        result, resolved = resolve.check(stack_lines, own, target.python, source_builds=source_builds)
    else:
        result, resolved = resolve.Check("skipped", "not requested"), own
    for _, before, after, why in result.changes:
        for dependency in dependencies:
            if dependency.requirement == before:
                dependency.requirement = after
                dependency.action = "replace" if after else "drop"
                change = f"relaxed to {after}" if after else "dropped"
                dependency.note = "; ".join(
                    filter(None, [dependency.note, f"{before} did not resolve ({why}): {change}"])
                )
    return Analysis(
        root=root,
        own_stack=data["chosen"],
        own_keras=data["table"]["stacks"][data["chosen"]]["keras"],
        stack_id=stack_id,
        reason=reason,
        python=target.python,
        keras=target.keras,
        hits=hits,
        findings=codes.judge(hits, target.keras, stack_id),
        dependencies=dependencies,
        requirements=stack_lines + resolved,
        requirements_dev=recommend.suggested_requirements(data, stack_id, dependencies, dev=True),
        check=result,
        regenerate=recommend.regenerate_command(data, stack_id, str(root), python),
        files=len({source.path for source in sources}),
    )
