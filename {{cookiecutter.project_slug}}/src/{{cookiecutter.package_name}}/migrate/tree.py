"""Walk the legacy tree and read its Python: .py files and the code cells of notebooks. Read-only.

What cannot be read becomes a Hit (binary, undecodable, too large, broken notebook), never an exception.
A notebook is one program: its code cells, in order, become one Source (names imported in one cell are
resolved in the next), which remembers where each cell starts so that findings keep cell and line.
Magics and shell lines are replaced by `pass` at the same indentation, so line numbers stay those of the
cell and the cell still parses; cells in another language (%%bash ...) are left out. The size limit
counts a notebook's code, not its outputs (images and tables are most of a large notebook).
"""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from .codes import Hit

MAX_BYTES = 1_000_000  # larger "sources" are generated or data; reading them would only cost time
SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}
# %magic, !shell, x = !shell / %magic, and IPython help (obj? / obj??)
MAGIC_LINE = re.compile(r"^(\s*)(?:[%!]|\w+\s*=\s*[%!]|[\w.]+\?\??\s*$)")


MAX_NOTEBOOK_BYTES = 200_000_000  # a notebook file is read whole, outputs included: beyond this, skipped


@dataclass(frozen=True)
class Source:
    path: str  # relative to the legacy root, with "/"
    cell: int | None  # notebook cell index (0-based, counting every cell) or None for a .py file
    text: str
    cells: tuple = ()  # a notebook: ((cell index, cell text), ...) in order; text is them joined

    def locate(self, line: int | None) -> tuple:
        """(line within its cell, cell index) of a line of text; (line, self.cell) for a .py file."""
        if not self.cells or line is None:
            return line, self.cell
        first = 1
        for index, text in self.cells:
            count = text.count("\n")
            if line < first + count:
                return line - first + 1, index
            first += count
        return line - first + 1, self.cells[-1][0]

    def without_cell(self, cell: int) -> Source:
        return notebook_source(self.path, [(i, text) for i, text in self.cells if i != cell])


def notebook_source(name: str, cells: list) -> Source:
    """One Source for a notebook's code cells ((index, text) each, every text ending with a newline)."""
    return Source(name, None, "".join(text for _, text in cells), tuple(cells))


def is_environment(folder: Path) -> bool:
    """A virtualenv or conda environment: installed packages, not the project's code."""
    return (folder / "pyvenv.cfg").exists() or (folder / "conda-meta").is_dir()


def walk(root: Path, exclude: tuple = ()) -> list:
    """Every file of the project, sorted; hidden folders, caches, environments and `exclude` left out."""
    excluded = {Path(p).resolve() for p in exclude}
    files = []
    for folder, dirs, names in os.walk(root):  # does not follow symlinked folders: no loops
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIP_DIRS
            and not is_environment(here / d)
            and (here / d).resolve() not in excluded
        )
        files.extend(here / name for name in sorted(names) if not (here / name).is_symlink())
    return files


def relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def decode_python(data: bytes) -> str | None:
    """Source text honouring a PEP 263 coding cookie; None for binary or undecodable bytes."""
    if b"\0" in data:
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def too_large(path: Path, name: str) -> Hit | None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        return Hit(name, None, None, "PY004", f"{size} bytes (the limit is {MAX_BYTES})")
    return None


def read_py(root: Path, path: Path) -> tuple:
    """([Source], [Hit]) of one .py file."""
    name = relative(root, path)
    skipped = too_large(path, name)
    if skipped:
        return [], [skipped]
    text = decode_python(path.read_bytes())
    if text is None:
        return [], [Hit(name, None, None, "PY003")]
    return [Source(name, None, text)], []


def python_of_cell(lines: list) -> str | None:
    """A code cell's Python with magics and shell lines made `pass`; None for a cell in another language."""
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].strip()[2:].split(" ")[0]
        if magic not in PYTHON_CELL_MAGICS:
            return None
        lines = ["\n", *lines[1:]]
    kept = []
    for line in lines:
        match = MAGIC_LINE.match(line)
        if match:
            line = match.group(1) + "pass\n"
        kept.append(line if line.endswith("\n") else line + "\n")
    return "".join(kept)


def unmasked(original: str, masked: str, changed: str) -> str | None:
    """A cell's new source: its Python as python_of_cell masked it (masked), then changed by the tools
    (changed), with the magic and shell lines put back where their `pass` ended up; None when a tool
    changed or removed one of those lines."""
    before = original.splitlines(keepends=True)
    masked_lines, lines = masked.splitlines(keepends=True), changed.splitlines(keepends=True)
    cell_magic = bool(before) and before[0].lstrip().startswith("%%")
    magics = [i for i, line in enumerate(before) if (i == 0 and cell_magic) or MAGIC_LINE.match(line)]
    moved = {}
    matcher = difflib.SequenceMatcher(None, masked_lines, lines, autojunk=False)
    for start, new_start, size in matcher.get_matching_blocks():
        moved.update({start + k: new_start + k for k in range(size)})
    if any(i not in moved for i in magics):
        return None
    for i in magics:
        lines[moved[i]] = before[i] if before[i].endswith("\n") else before[i] + "\n"
    text = "".join(lines)
    return text if original.endswith("\n") or not text.endswith("\n") else text[:-1]


def code_cells(data: bytes) -> list:
    """[(index, cell source)] of a notebook's code cells; raises ValueError/KeyError/TypeError when the
    bytes are not an nbformat 4 notebook."""
    cells = json.loads(data)["cells"]
    found = []
    for index, cell in enumerate(cells):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            found.append((index, source if isinstance(source, str) else "".join(source)))
    return found


def read_notebook(root: Path, path: Path) -> tuple:
    name = relative(root, path)
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return [], [Hit(name, None, None, "PY004", f"{size} bytes (the limit for a notebook is {MAX_NOTEBOOK_BYTES})")]
    try:
        cells = code_cells(path.read_bytes())
    except (ValueError, KeyError, TypeError) as error:  # bad JSON, bad UTF-8, or not nbformat 4
        return [], [Hit(name, None, None, "NB001", type(error).__name__)]
    python = []
    for index, source in cells:
        text = python_of_cell(source.splitlines(keepends=True))
        if text is not None:
            python.append((index, text))
    code = sum(len(text.encode()) for _, text in python)
    if code > MAX_BYTES:
        return [], [Hit(name, None, None, "PY004", f"{code} bytes of code (the limit is {MAX_BYTES})")]
    return ([notebook_source(name, python)] if python else []), []


def read_sources(root: Path, files: list) -> tuple:
    """([Source], [Hit]) for every .py file and notebook among files."""
    sources, hits = [], []
    for path in files:
        reader = {".py": read_py, ".ipynb": read_notebook}.get(path.suffix)
        if reader is None:
            continue
        found, problems = reader(root, path)
        sources += found
        hits += problems
    return sources, hits
