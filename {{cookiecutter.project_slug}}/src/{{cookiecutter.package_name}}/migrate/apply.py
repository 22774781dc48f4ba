"""--apply OUTTREE: a migrated copy of the legacy tree. The legacy tree itself is only read.

1. copy the tree (caches and virtualenvs left out; .git kept, so `git diff` works in the copy);
2. the .py files and notebooks with TF1 findings go through TensorFlow's own tf_upgrade_v2, one source
   (a file, or a notebook's code cell) at a time (tfupgrade.py, run by the Python that has TensorFlow);
   its report, citing the project's paths, is tf_upgrade_v2.txt beside MIGRATION.md;
3. every .py file and every notebook code cell gets the LibCST fixes (codemods.py); TF1 graph code also
   gets eager execution turned off. In a cell, magics and shell lines are masked while the tools run and
   put back after; outputs are untouched;
4. a source that a tool cannot handle stays as it was and is reported (MIG001) with the tool's reason;
   the others are upgraded;
5. a unified diff of the copy against the original, for the report.
"""

from __future__ import annotations

import difflib
import io
import json
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from . import api, removed
from .codes import Hit
from .tree import MAX_BYTES, SKIP_DIRS, code_cells, decode_python, is_environment, python_of_cell, relative, unmasked
from .tree import walk as walk_tree

REPORT_NAME = "tf_upgrade_v2.txt"
TF1_CODES = ("TF101", "TF102", "TF103", "TF104", "TF105", "TF106", "TF107", "TF108")
GRAPH_CODES = ("TF101", "TF102")  # sessions and placeholders: the code builds a graph and runs it


@dataclass
class Applied:
    outtree: Path
    diff: str = ""
    notes: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # relative paths that differ from the original
    failed: list = field(default_factory=list)  # (path, cell or None, tool, reason): copied unchanged

    def hits(self) -> list:
        return [Hit(path, None, cell, "MIG001", f"{tool}: {reason}") for path, cell, tool, reason in self.failed]

    def failed_names(self) -> list:
        return list(dict.fromkeys(path for path, *_ in self.failed))


@dataclass
class Unit:
    """One source the tools work on: a .py file, or a notebook code cell (magics masked)."""

    path: str
    cell: int | None
    original: str  # as in the file (a cell's source with its magics)
    masked: str  # what the tools are given (a cell's magics masked)
    text: str  # what the tools made of it

    @property
    def name(self) -> str:
        return self.path if self.cell is None else f"{self.path} (cell {self.cell})"

    def result(self) -> str | None:
        """The new source of the file or cell; None when masking cannot put the magics back."""
        return self.text if self.cell is None else unmasked(self.original, self.masked, self.text)


def ignore(folder, names):
    here = Path(folder)
    return {n for n in names if n in SKIP_DIRS or n == ".ipynb_checkpoints" or is_environment(here / n)}


def tf_upgrade_v2() -> str | None:
    """TensorFlow's upgrade script: a console script of the stack, next to this interpreter."""
    beside = Path(sys.executable).parent / "tf_upgrade_v2"
    return str(beside) if beside.exists() else shutil.which("tf_upgrade_v2")


def units_of(path: Path, name: str) -> list:
    """The sources of one file, [] for what the tools cannot read (their findings already say why)."""
    data = path.read_bytes()
    if path.suffix == ".py":
        text = decode_python(data) if len(data) <= MAX_BYTES else None
        return [] if text is None else [Unit(name, None, text, text, text)]
    try:
        cells = code_cells(data)
    except (ValueError, KeyError, TypeError):
        return []
    units = []
    for index, source in cells:
        python = python_of_cell(source.splitlines(keepends=True))
        if python is not None:  # None: a cell in another language (%%bash)
            units.append(Unit(name, index, source, python, python))
    return units


def upgrade_tf1(units: list, report: Path, applied: Applied):
    """tf_upgrade_v2 on these units, in one process; a unit it cannot handle is marked failed."""
    script = tf_upgrade_v2()
    if script is None:
        applied.notes.append(
            "TF1 code was not upgraded: tf_upgrade_v2 (it ships with TensorFlow) is not installed here"
        )
        return set()
    python = Path(script).parent / "python"
    jobs = [{"name": unit.name, "text": unit.text} for unit in units]
    command = [str(python if python.exists() else sys.executable), str(Path(__file__).with_name("tfupgrade.py"))]
    # an argument list: the upgrade script of this package, run by the stack's Python, never through a shell
    result = subprocess.run(command, input=json.dumps(jobs), capture_output=True, text=True, timeout=1800)  # noqa: S603 - see above
    try:
        outcomes = json.loads(result.stdout) if result.returncode == 0 else None
    except ValueError:
        outcomes = None
    if outcomes is None or len(outcomes) != len(units):
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        for unit in units:
            applied.failed.append((unit.path, unit.cell, "tf_upgrade_v2", f"it did not run ({last})"))
        return {id(unit) for unit in units}
    failed = set()
    reports = []
    for unit, outcome in zip(units, outcomes, strict=True):
        reports.append(outcome["report"])
        if outcome["text"] is None:
            applied.failed.append((unit.path, unit.cell, "tf_upgrade_v2", outcome["error"]))
            failed.add(id(unit))
        else:
            unit.text = outcome["text"]
    report.write_text("".join(reports), encoding="utf-8")
    upgraded = sorted({unit.path for unit in units if id(unit) not in failed})
    if upgraded:
        applied.notes.append(f"tf_upgrade_v2 upgraded {', '.join(upgraded)}; its report: {REPORT_NAME}")
    return failed


def fix_units(units: list, keras_major: int, graph: set, applied: Applied, skip: set, compat_layers: bool = False):
    from . import codemods  # LibCST: imported only when a copy is made

    eager_off = set()  # files (notebooks) whose TensorFlow import already got disable_eager_execution()
    for unit in units:
        if id(unit) in skip:
            continue
        wants = unit.path in graph and unit.path not in eager_off
        try:
            fixed = codemods.fix(unit.text, keras_major, graph_mode=wants, compat_layers=compat_layers)
        except Exception as error:  # libcst.ParserSyntaxError and its kin: Python 2, syntax errors
            reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            applied.failed.append((unit.path, unit.cell, "LibCST fixes", reason.rstrip(": ")))
            skip.add(id(unit))
            continue
        if wants and "disable_eager_execution" in fixed and "disable_eager_execution" not in unit.text:
            eager_off.add(unit.path)
            applied.notes.append(f"{unit.name}: TF1 graph code, eager execution turned off after its TensorFlow import")
        unit.text = fixed
    for path in sorted(graph - eager_off):
        if any(unit.path == path and id(unit) not in skip for unit in units):
            applied.notes.append(
                f"{path}: TF1 graph code without `import tensorflow`: turn eager execution off by hand"
            )


def write_file(path: Path, units: list, skip: set, applied: Applied):
    """Write the units' new text into the copy; a unit that failed, or whose magics cannot be put back,
    stays as it was."""
    if path.suffix == ".py":
        (unit,) = units
        if id(unit) in skip or unit.text == unit.original:
            return
        encoding, _ = tokenize.detect_encoding(io.BytesIO(path.read_bytes()).readline)  # keep a PEP 263 cookie true
        path.write_bytes(unit.text.encode(encoding))
        return
    notebook = json.loads(path.read_bytes())
    changed = False
    for unit in units:
        if id(unit) in skip:
            continue
        source = unit.result()
        if source is None:
            applied.failed.append((unit.path, unit.cell, "cell magics", "a tool changed a magic or shell line"))
        elif source != unit.original:
            notebook["cells"][unit.cell]["source"] = source.splitlines(keepends=True)
            changed = True
    if changed:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def cells_of(path: Path) -> dict:
    try:
        return dict(code_cells(path.read_bytes()))
    except (ValueError, KeyError, TypeError):
        return {}


def unified(before: str, after: str, label: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{label}", f"b/{label}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_tree(root: Path, copy: Path, changed: list) -> str:
    parts = []
    for path in walk_tree(copy):
        name = relative(copy, path)
        original = root / name
        if path.suffix == ".py":
            before, after = decode_python(original.read_bytes()), decode_python(path.read_bytes())
            if before is not None and after is not None and before != after:
                parts.append(unified(before, after, name))
                changed.append(name)
        elif path.suffix == ".ipynb":
            old, new = cells_of(original), cells_of(path)
            cells = [unified(old[i], new[i], f"{name} (cell {i})") for i in new if i in old and old[i] != new[i]]
            if cells:
                parts += cells
                changed.append(name)
    return "".join(parts)


def apply(
    root: Path, outtree: Path, hits: list, keras_major: int, report_dir: Path, stack: str | None = None
) -> Applied:
    """The migrated copy, with the fixes for this Keras major (and this stack's API: tf.compat.v1.layers)."""
    applied = Applied(outtree)
    shutil.copytree(root, outtree, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    tf1 = {hit.path for hit in hits if hit.code in TF1_CODES or removed.UPGRADED in hit.fix}
    graph = {hit.path for hit in hits if hit.code in GRAPH_CODES}
    files = {}
    for path in walk_tree(outtree):
        if path.suffix in (".py", ".ipynb") and not path.is_symlink():
            files[path] = units_of(path, relative(outtree, path))
    units = [unit for found in files.values() for unit in found]
    skip = upgrade_tf1([u for u in units if u.path in tf1], report_dir / REPORT_NAME, applied) if tf1 else set()
    compat_layers = stack is not None and api.load()[stack].has("tensorflow.compat.v1.layers.dense")
    fix_units(units, keras_major, graph, applied, skip, compat_layers)
    for path, found in files.items():
        if found:
            write_file(path, found, skip, applied)
    applied.diff = diff_tree(root, outtree, applied.changed)
    return applied
