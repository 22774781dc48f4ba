"""data=npz: NumPy arrays `x` (examples along the first axis) and `y` (one target per example) in one .npz
file, as `numpy.savez(FILE, x=x, y=y)` writes them. The task is found from y as for data=csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime.datasets import DataError, DataSpec, Prepared, from_arrays
from ..runtime.tables import target_values


def load(
    path: str,
    task: str = "auto",
    validation_split: float = 0.2,
    test_split: float = 0.1,
    normalize: bool = True,
    *,
    seed: int,
) -> Prepared:
    if not path:
        raise DataError("data=npz needs data.path=FILE (a .npz file holding arrays x and y).")
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file (data.path).")
    try:
        arrays = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"{path} is not a file NumPy can read ({error}).") from None
    if not hasattr(arrays, "files"):
        raise DataError(f"{path} holds a single array; data=npz reads numpy.savez(FILE, x=x, y=y)'s arrays x and y.")
    with arrays:
        missing = [name for name in ("x", "y") if name not in arrays.files]
        if missing:
            raise DataError(f"{path} has no array {missing[0]!r}; it holds {', '.join(arrays.files) or 'none'}.")
        try:
            x, y = arrays["x"], arrays["y"]
        except ValueError as error:  # object arrays need pickle, which a data file must not run
            raise DataError(f"{path}: {error}") from None
    if x.ndim < 2 or not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{path}: x must be numbers with the examples along its first axis; it is {x.dtype} {x.shape}.")
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        raise DataError(f"{path}: y must hold one target per example; its shape is {y.shape}.")
    labels, task, classes = target_values([str(value) for value in y.reshape(-1)], task, path, "y")
    spec = DataSpec("npz", tuple(x.shape[1:]), task, classes)
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"{path}: x holds {int((~np.isfinite(x)).sum())} NaN or infinite value(s); replace them first.")
    return from_arrays(x, labels, spec, validation_split, seed, normalize=normalize, test_split=test_split)
