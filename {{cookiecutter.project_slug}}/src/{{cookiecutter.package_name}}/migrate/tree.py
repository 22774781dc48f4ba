"""Walk the legacy tree and read its Python: .py files and the code cells of notebooks. Read-only.

What cannot be read becomes a Hit (binary, undecodable, too large, broken notebook), never an exception.
Notebook magics and shell lines are replaced by `pass` at the same indentation, so line numbers stay
those of the cell and the cell still parses; cells in another language (%%bash ...) are left out.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Source:
    path: str  # relative to the legacy root, with "/"
    cell: int | None  # notebook cell index (0-based, counting every cell) or None for a .py file
    text: str


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


def has_magic(lines: list) -> bool:
    return bool(lines) and lines[0].lstrip().startswith("%%") or any(MAGIC_LINE.match(line) for line in lines)


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


def read_notebook(root: Path, path: Path) -> tuple:
    name = relative(root, path)
    skipped = too_large(path, name)
    if skipped:
        return [], [skipped]
    try:
        cells = json.loads(path.read_bytes())["cells"]
    except (ValueError, KeyError, TypeError) as error:  # bad JSON, bad UTF-8, or not nbformat 4
        return [], [Hit(name, None, None, "NB001", type(error).__name__)]
    sources = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        lines = source.splitlines(keepends=True) if isinstance(source, str) else list(source)
        text = python_of_cell(lines)
        if text is not None:
            sources.append(Source(name, index, text))
    return sources, []


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
