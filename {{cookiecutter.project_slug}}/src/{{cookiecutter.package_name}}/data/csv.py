"""data=csv: a table with a header row, one example per row; numeric feature columns and a target column."""

from __future__ import annotations

from ..runtime.datasets import Prepared, from_arrays, read_csv


def load(
    path: str,
    target: str,
    features: list | None = None,
    task: str = "auto",
    validation_split: float = 0.2,
    *,
    seed: int,
) -> Prepared:
    x, y, spec = read_csv(path, target, features, task)
    return from_arrays(x, y, spec, validation_split, seed)
