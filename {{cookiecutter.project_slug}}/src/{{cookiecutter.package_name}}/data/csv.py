"""data=csv: a table with a header row, one example per row; numeric feature columns and a target column.
Read and checked with pandas (runtime/tables.py): missing cells, the delimiter, the encoding."""

from __future__ import annotations

from functools import partial

from ..runtime import tables
from ..runtime.datasets import Prepared, from_arrays


def load(
    path: str,
    target: str,
    features: list | None = None,
    task: str = "auto",
    validation_split: float = 0.2,
    test_split: float = 0.1,
    normalize: bool = True,
    missing: str = "error",
    missing_features: str = "error",
    delimiter: str | None = None,
    encoding: str | None = None,
    *,
    seed: int,
) -> Prepared:
    x, y, spec = tables.read_csv(path, target, features, task, missing, missing_features, delimiter, encoding)
    fill = partial(tables.fill_missing_features, path=path)
    return from_arrays(
        x, y, spec, validation_split, seed, normalize=normalize, fill_missing=fill, test_split=test_split
    )
