"""--apply OUTTREE: a migrated copy of the legacy tree. The legacy tree itself is only read.

1. copy the tree (caches and virtualenvs left out; .git kept, so `git diff` works in the copy);
2. files with TF1 findings go through TensorFlow's own tf_upgrade_v2 (installed with the stack, next
   to this Python), its report kept as tf_upgrade_v2.txt beside MIGRATION.md;
3. every .py file and every notebook code cell without magics gets the LibCST fixes (codemods.py);
4. a unified diff of the copy against the original, for the report.
"""

from __future__ import annotations

import difflib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from .tree import MAX_BYTES, SKIP_DIRS, decode_python, has_magic, is_environment, relative, walk

REPORT_NAME = "tf_upgrade_v2.txt"


@dataclass
class Applied:
    outtree: Path
    diff: str = ""
    notes: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # relative paths that differ from the original


def ignore(folder, names):
    here = Path(folder)
    return {n for n in names if n in SKIP_DIRS or n == ".ipynb_checkpoints" or is_environment(here / n)}


def tf_upgrade_v2() -> str | None:
    """TensorFlow's upgrade script: a console script of the stack, next to this interpreter."""
    beside = Path(sys.executable).parent / "tf_upgrade_v2"
    return str(beside) if beside.exists() else shutil.which("tf_upgrade_v2")


def upgrade_tf1(copy: Path, paths: list, report_dir: Path, notes: list):
    if not paths:
        return
    script = tf_upgrade_v2()
    if script is None:
        notes.append("TF1 code was not upgraded: tf_upgrade_v2 (it ships with TensorFlow) is not installed here")
        return
    with tempfile.TemporaryDirectory() as folder:
        stage, upgraded = Path(folder) / "in", Path(folder) / "out"
        for path in paths:
            (stage / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy / path, stage / path)
        report = report_dir / REPORT_NAME
        command = [script, "--intree", str(stage), "--outtree", str(upgraded), "--reportfile", str(report)]
        # an argument list: tf_upgrade_v2 from .venv on a staged copy, never through a shell
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)  # noqa: S603 - see above
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            notes.append(f"tf_upgrade_v2 failed ({last}); TF1 code was not upgraded")
            return
        for path in paths:
            shutil.copyfile(upgraded / path, copy / path)
    notes.append(f"tf_upgrade_v2 upgraded {', '.join(paths)}; its report: {REPORT_NAME}")


def fix_python(path: Path, name: str, keras_major: int, notes: list):
    from . import codemods  # LibCST: imported only when a copy is made

    data = path.read_bytes()
    text = decode_python(data) if len(data) <= MAX_BYTES else None
    if text is None:
        return
    try:
        fixed = codemods.fix(text, keras_major)
    except Exception as error:  # libcst.ParserSyntaxError and its kin: Python 2, syntax errors
        notes.append(f"{name}: not changed ({type(error).__name__}: it does not parse as Python 3)")
        return
    if fixed != text:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)  # keep a PEP 263 cookie true
        path.write_bytes(fixed.encode(encoding))


def fix_notebook(path: Path, name: str, keras_major: int, notes: list):
    from . import codemods

    try:
        notebook = json.loads(path.read_bytes())
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError):
        return
    changed = False
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = source if isinstance(source, str) else "".join(source)
        if has_magic(text.splitlines(keepends=True)):
            notes.append(f"{name} cell {index}: not changed (it has IPython magics or shell lines)")
            continue
        try:
            fixed = codemods.fix(text, keras_major)
        except Exception:  # noqa: S112 - a cell the codemods cannot parse is left as it was, by design
            continue
        if fixed != text:
            cell["source"] = fixed.splitlines(keepends=True)
            changed = True
    if changed:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def cells_of(path: Path) -> dict:
    try:
        cells = json.loads(path.read_bytes())["cells"]
    except (ValueError, KeyError, TypeError):
        return {}
    return {
        index: "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        for index, cell in enumerate(cells)
        if isinstance(cell, dict) and cell.get("cell_type") == "code"
    }


def unified(before: str, after: str, label: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{label}", f"b/{label}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_tree(root: Path, copy: Path, changed: list) -> str:
    parts = []
    for path in walk(copy):
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


def apply(root: Path, outtree: Path, hits: list, keras_major: int, report_dir: Path) -> Applied:
    applied = Applied(outtree)
    shutil.copytree(root, outtree, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    tf1 = sorted({hit.path for hit in hits if hit.code.startswith("TF1") and hit.cell is None})
    upgrade_tf1(outtree, tf1, report_dir, applied.notes)
    for path in walk(outtree):
        fixer = {".py": fix_python, ".ipynb": fix_notebook}.get(path.suffix)
        if fixer and not path.is_symlink():
            fixer(path, relative(outtree, path), keras_major, applied.notes)
    applied.diff = diff_tree(root, outtree, applied.changed)
    return applied
