"""Predict with a trained run:
`python -m {{ cookiecutter.package_name }}.predict run_dir=DIR input=FILE_OR_DIR [output=FILE]`.

The input is what the run trained on: a CSV with the model's feature columns (by name, in any order; other
columns are copied through), a .npz file with an array `x`, or an image file or a folder of images. The
output is a CSV with one row per input row (or image): the input's columns (or `file`, or `row`), then
`prediction` (a class name, or a value in the target's units) and, for a classifier, `probability_<class>`.
What the model takes and gives (features, classes) comes from the run's model.json (runtime/rundir.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .runtime import tables
from .runtime.datasets import DataError
from .runtime.image_folders import IMAGE_SUFFIXES, undecodable
from .runtime.rundir import Run, RunDirError, arguments, load_run

BATCH = 256
USAGE = "usage: python -m {{ cookiecutter.package_name }}.predict run_dir=DIR input=FILE_OR_DIR [output=FILE]"


def table_rows(path: Path, features: list) -> tuple[pd.DataFrame, np.ndarray]:
    """The CSV's rows as read (text) and their feature columns as float32, in the model's order."""
    frame = tables.read_frame(path, tables.decode(path, None), None)
    frame = frame[~frame.apply(lambda column: column.str.strip() == "").all(axis=1)]
    if frame.empty:
        raise RunDirError(f"{path} has a header but no rows to predict.")
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise RunDirError(f"{path} has no column {missing[0]!r}; the model takes: {', '.join(features)}.")
    x = np.empty((len(frame), len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        cells = frame[name].str.strip()
        numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(numbers)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            value = frame[name].iloc[first]
            what = "a missing value" if not value.strip() else f"a non-numeric value {value!r}"
            raise RunDirError(f"{path} column {name!r} has {what} on line {tables.line(frame.index[first])}.")
        x[:, j] = numbers
    return frame, x


def image_rows(path: Path, run: Run) -> tuple[pd.DataFrame, np.ndarray]:
    files = [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise RunDirError(f"{path} holds no image ({', '.join(IMAGE_SUFFIXES)}).")
    for file in files:
        reason = undecodable(file)
        if reason:
            raise RunDirError(f"{file} cannot be decoded as an image: {reason}.")
    return pd.DataFrame({"file": [str(file) for file in files]}), run.model_inputs(np.array([str(f) for f in files]))


def array_rows(path: Path, run: Run) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            x = arrays["x"]
    except (OSError, ValueError, KeyError, AttributeError) as error:
        raise RunDirError(f"{path}: not a .npz file with an array x ({error}).") from None
    if not len(x):
        raise RunDirError(f"{path}: the array x holds no rows.")
    if tuple(x.shape[1:]) != run.input_shape or not np.issubdtype(x.dtype, np.number):
        raise RunDirError(f"{path}: x is {x.dtype} {x.shape[1:]} per row; the model takes numbers {run.input_shape}.")
    return pd.DataFrame({"row": range(len(x))}), x.astype(np.float32)


def read_input(path: Path, run: Run) -> tuple[pd.DataFrame, np.ndarray]:
    if not path.exists():
        raise RunDirError(f"{path}: no such file or folder (input).")
    if run.is_images:
        return image_rows(path, run)
    if path.suffix.lower() == ".npz":
        return array_rows(path, run)
    if not run.features:
        raise RunDirError(f"{path}: this model has no named features (data={run.info['data_kind']}); give a .npz.")
    if not path.is_file():
        raise RunDirError(f"{path} is a folder; the model takes a CSV with columns {', '.join(run.features)}.")
    return table_rows(path, run.features)


def output_path(run: Run, source: Path, output: str | None) -> Path:
    """The output given (never overwritten), or DIR/predictions_<input>.csv, numbered past earlier ones."""
    if output:
        path = Path(output).expanduser()
        if path.exists():
            raise RunDirError(f"{path} exists; predict never overwrites a file: name another output=FILE.")
        return path
    path, number = run.path / f"predictions_{source.stem}.csv", 1
    while path.exists():
        number += 1
        path = run.path / f"predictions_{source.stem}_{number}.csv"
    return path


def predict(run_dir, source, output: str | None = None) -> Path:
    """Predict every row (or image) of `source`; returns the CSV written."""
    run = load_run(run_dir)
    source = Path(str(source)).expanduser()
    frame, x = read_input(source, run)
    target = output_path(run, source, output)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    outputs = np.asarray(run.load_model().predict(x, batch_size=BATCH, verbose=0))
    result = frame.reset_index(drop=True).copy()
    if run.task == "classification":
        result["prediction"] = np.array(run.classes, dtype=object)[outputs.argmax(axis=-1)]
        for j, name in enumerate(run.classes):
            result[f"probability_{name}"] = outputs[:, j]
    else:
        result["prediction"] = outputs.reshape(len(x), -1)[:, 0]
    target.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(target, index=False)
    return target


def main(argv: list | None = None) -> int:
    try:
        given, overrides = arguments(sys.argv[1:] if argv is None else argv, ("run_dir", "input", "output"), USAGE)
        if overrides:
            raise RunDirError(f"predict takes no data overrides ({overrides[0]}): give input=FILE_OR_DIR.")
        if not given.get("input"):
            raise RunDirError("input=FILE_OR_DIR is missing: the rows (a CSV, a .npz) or images to predict.")
        written = predict(given["run_dir"], given["input"], given.get("output"))
    except (RunDirError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"predictions: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
