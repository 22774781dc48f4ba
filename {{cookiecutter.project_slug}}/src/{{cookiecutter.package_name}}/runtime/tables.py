"""data=csv: a table read and checked with pandas, before TensorFlow loads.

Bad tables are refused in one line naming the file and the column and line; missing cells follow
`data.missing` (target cells: error or drop) and `data.missing_features` (feature cells: error, drop, or mean,
the training rows' mean, filled by `fill_missing_features` once the split is known). The log says what was
found: the task, the classes and their counts, the features, and every row dropped or cell filled.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from .datasets import DataError, DataSpec

log = logging.getLogger(__name__)

TASKS = ("auto", "regression", "classification")
MISSING_TARGET = ("error", "drop")
MISSING_FEATURES = ("error", "drop", "mean")
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
DEFAULT_ENCODING = "utf-8-sig"  # UTF-8, with or without a byte order mark
# An integer-valued numeric target with at most this many distinct values is taken as class labels.
MAX_AUTO_CLASSES = 20


def read_csv(
    path,
    target: str | None,
    features: list | None = None,
    task: str = "auto",
    missing: str = "error",
    missing_features: str = "error",
    delimiter: str | None = None,
    encoding: str | None = None,
) -> tuple[np.ndarray, np.ndarray, DataSpec]:
    """The feature columns as float32 (NaN where a missing cell waits for data.missing_features=mean) and the
    target: class numbers 0..n-1 or a (n, 1) float32 regression target. The arguments are data=csv's keys."""
    if not path:
        raise DataError("data=csv needs data.path=FILE and data.target=COLUMN.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file (data.path).")
    if missing not in MISSING_TARGET:
        raise DataError(f"data.missing={missing} is unknown; choose one of {', '.join(MISSING_TARGET)}.")
    if missing_features not in MISSING_FEATURES:
        raise DataError(
            f"data.missing_features={missing_features} is unknown; choose one of {', '.join(MISSING_FEATURES)}."
        )
    frame = read_frame(path, decode(path, encoding), delimiter)
    features = columns(frame, target, features, path)

    empty = frame.apply(lambda column: column.str.strip() == "")
    rows = ~empty.all(axis=1)  # a blank line is no row
    dropped = []
    no_target = rows & empty[target]
    if no_target.any():
        if missing == "error":
            raise DataError(
                f"{path} column {target!r} has {int(no_target.sum())} missing value(s), the first on line "
                f"{line(no_target.idxmax())}; fill them, or drop those rows with data.missing=drop."
            )
        dropped.append(f"{int(no_target.sum())} without a target (data.missing=drop)")
        rows &= ~no_target
    no_feature = rows & empty[features].any(axis=1)
    if no_feature.any():
        first = no_feature.idxmax()
        column = next(name for name in features if empty.at[first, name])
        if missing_features == "error":
            raise DataError(
                f"{path} column {column!r} has a missing value on line {line(first)} ({int(no_feature.sum())} row(s) "
                "miss a feature); fill them, or set data.missing_features=drop (drop those rows) or "
                "data.missing_features=mean (the training rows' mean)."
            )
        if missing_features == "drop":
            dropped.append(f"{int(no_feature.sum())} with a missing feature (data.missing_features=drop)")
            rows &= ~no_feature
    frame, empty = frame[rows], empty[rows]
    if frame.empty:
        left = f" once {' and '.join(dropped)} are dropped" if dropped else ""
        raise DataError(f"{path} has a header but no data rows{left}.")

    x = feature_values(frame, empty, features, path)
    # surrounding spaces are dropped (e.g. after the comma of "1.5, cat"); warn_similar_labels lists them
    y, task, classes = target_values(frame[target].str.strip().tolist(), task, path, target, lines=frame.index)
    log.info("data: %s, %d rows; features (%d): %s", path, len(frame), len(features), ", ".join(features))
    if dropped:
        log.warning("data: %s: dropped rows: %s", path, "; ".join(dropped))
    if task == "classification":
        counts = Counter(y.tolist())
        found = ", ".join(f"{label!r} {counts[i]}" for i, label in enumerate(classes))
        log.info("data: task classification (target %r), %d classes: %s", target, len(classes), found)
        warn_similar_labels(frame[target].unique().tolist(), path, target)
    else:
        log.info("data: task regression (target %r), mean %.4g, std %.4g", target, float(y.mean()), float(y.std()))
    return x, y, DataSpec("csv", (len(features),), task, classes, tuple(features), target)


def line(index: int) -> int:
    """The file's line number of a row (the header is line 1)."""
    return int(index) + 2


def decode(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    try:
        return data.decode(encoding or DEFAULT_ENCODING)
    except LookupError:
        raise DataError(f"data.encoding={encoding} is not an encoding Python knows (e.g. utf-8, cp1252).") from None
    except UnicodeDecodeError as error:
        name = encoding or "UTF-8"
        where = data[: error.start].count(b"\n") + 1
        raise DataError(
            f"{path} is not {name}: byte 0x{data[error.start]:02x} on line {where} cannot be decoded; "
            f"name its encoding with data.encoding=..., e.g. data.encoding=cp1252."
        ) from None


def delimiter_of(text: str, configured: str | None) -> str:
    """The configured delimiter, else the one of , ; tab | the header uses (csv.Sniffer when it uses several)."""
    if configured:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(configured, configured)
        if len(delimiter) != 1:
            raise DataError(f"data.delimiter={configured!r} must be one character (or tab).")
        return delimiter
    header = next((candidate for candidate in text.splitlines() if candidate.strip()), "")
    used = [candidate for candidate in DELIMITERS if candidate in header]
    if len(used) == 1:
        return used[0]
    if not used:
        return ","  # a single column
    try:
        return csv.Sniffer().sniff("\n".join(text.splitlines()[:50]), delimiters="".join(used)).delimiter
    except csv.Error:
        return max(used, key=header.count)


def read_frame(path: Path, text: str, configured_delimiter: str | None) -> pd.DataFrame:
    """Every cell as text ('' when missing), one row per line of the file (blank lines included, so that a
    row's index gives its line)."""
    if not text.strip():
        raise DataError(f"{path} is empty: a CSV needs a header row and data rows.")
    delimiter = delimiter_of(text, configured_delimiter)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skip_blank_lines=False, engine="c"
        )
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            expected, number, saw = found.groups()
            raise DataError(
                f"{path} line {number} has {saw} values, the header has {expected} columns "
                f"({DELIMITERS.get(delimiter, repr(delimiter))}-separated; set data.delimiter otherwise)."
            ) from None
        raise DataError(f"{path} cannot be read as a CSV table: {str(error).strip()}") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    log.info("data: %s is %s-separated", path, DELIMITERS.get(delimiter, repr(delimiter)))
    return frame


def columns(frame: pd.DataFrame, target: str | None, features: list | None, path: Path) -> list:
    """The feature columns: those named, or every column but the target."""
    header = list(frame.columns)
    if target is None or target not in header:
        hint = " (one column: set data.delimiter?)" if len(header) == 1 else ""
        raise DataError(f"{path} has no column {target!r} (data.target); its columns are: {', '.join(header)}{hint}.")
    features = list(features) if features else [name for name in header if name != target]
    unknown = [name for name in features if name not in header]
    if unknown:
        raise DataError(f"{path} has no column {unknown[0]!r} (data.features); its columns are: {', '.join(header)}.")
    if target in features or not features:
        raise DataError(f"{path}: data.features must name at least one column other than the target {target!r}.")
    return features


def feature_values(frame: pd.DataFrame, empty: pd.DataFrame, features: list, path: Path) -> np.ndarray:
    """The features as float32; NaN only where a cell is missing. Text and non-finite numbers are refused."""
    x = np.empty((len(frame), len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        cells = frame[name].str.strip()
        numbers = pd.to_numeric(cells.mask(empty[name]), errors="coerce")
        words = non_finite_words(cells)
        text = numbers.isna() & ~empty[name] & ~words
        if text.any():
            first = text.idxmax()
            raise DataError(
                f"{path} column {name!r} has a non-numeric value {frame.at[first, name]!r} on line {line(first)}; "
                "feature columns must be numbers (leave it out with data.features=[...])."
            )
        infinite = ~empty[name] & (words | ~np.isfinite(numbers.to_numpy(dtype=np.float64, na_value=0.0)))
        if infinite.any():
            first = infinite.idxmax()
            raise DataError(
                f"{path} column {name!r} has a non-finite value {frame.at[first, name]!r} on line {line(first)}; "
                "features must be finite numbers."
            )
        x[:, j] = numbers.to_numpy(dtype=np.float32, na_value=np.nan)
    return x


def non_finite_words(cells: pd.Series) -> pd.Series:
    return cells.str.lower().str.lstrip("+-").isin(["nan", "inf", "infinity"])


def fill_missing_features(x: np.ndarray, train_index: np.ndarray, path) -> np.ndarray:
    """Missing feature cells (data.missing_features=mean) filled with their column's mean over the training rows."""
    holes = np.isnan(x)
    if not holes.any():
        return x
    means = np.nanmean(np.where(holes[train_index], np.nan, x[train_index]), axis=0) if len(train_index) else None
    filled = x.copy()
    for j in np.flatnonzero(holes.any(axis=0)):
        if means is None or np.isnan(means[j]):
            raise DataError(f"{path}: feature column {j + 1} has no value in any training row to take the mean of.")
        filled[holes[:, j], j] = means[j]
    log.warning(
        "data: %s: filled %d missing feature cell(s) with the training rows' mean (data.missing_features=mean)",
        path,
        int(holes.sum()),
    )
    return filled


def target_values(values: list, task: str, path: Path, target: str, lines=None) -> tuple[np.ndarray, str, tuple]:
    """The target as numbers, and the task: given, or (auto) classification for text labels and for a few
    distinct integers, else regression. Class labels become 0..n-1 in sorted order."""
    if task not in TASKS:
        raise DataError(f"data.task={task} is unknown; choose one of {', '.join(TASKS)}.")
    cells = pd.Series(values, dtype=str).str.strip()
    parsed = pd.to_numeric(cells, errors="coerce")
    # 'nan' and 'inf' are numbers too, so that a regression target holding one is refused, not taken for labels
    numeric = bool((parsed.notna() | non_finite_words(cells)).all())
    numbers = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    if task == "auto":
        few_integers = (
            numeric
            and np.all(numbers == np.round(numbers))
            and len(set(values)) <= min(MAX_AUTO_CLASSES, len(values) // 2)
        )
        task = "classification" if not numeric or few_integers else "regression"
    if task == "regression":
        bad = np.flatnonzero(~np.isfinite(numbers))
        if bad.size:
            where = f" on line {line(lines[bad[0]])}" if lines is not None else ""
            raise DataError(
                f"{path} column {target!r} has a value {values[bad[0]]!r}{where} that is not a finite number, so it "
                "cannot be a regression target; use data.task=classification for labels."
            )
        return numbers.astype(np.float32).reshape(-1, 1), task, ()
    labels = sorted(set(values), key=lambda v: (float(v), v) if is_number(v) else (float("inf"), v))
    if len(labels) < 2:
        raise DataError(f"{path} column {target!r} has a single class {labels[0]!r}; classification needs two.")
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[value] for value in values], dtype=np.int32), task, tuple(labels)


def warn_similar_labels(labels: list, path: Path, target: str) -> list:
    """Labels as written that differ only in case or surrounding spaces, listed in a warning: those differing in
    spaces alone became one class, those differing in case stayed apart."""
    groups = {}
    for label in sorted(labels):
        groups.setdefault(label.strip().casefold(), []).append(label)
    pairs = [" / ".join(repr(label) for label in group) for group in groups.values() if len(group) > 1]
    if pairs:
        log.warning(
            "data: %s column %r has labels that differ only in case or surrounding spaces: %s (surrounding spaces "
            "are dropped, so labels differing only in them are one class; labels differing in case stay apart)",
            path,
            target,
            "; ".join(pairs),
        )
    return pairs


def is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
