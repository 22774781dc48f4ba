"""Prepared data: what a data entry's loader returns (`Prepared`, with its `DataSpec`), the seeded split,
the task found from a target's values, and the readers the csv and images loaders call.

`data=NAME` selects conf/data/NAME.yaml, whose `_target_` names the loader (src/<package>/data/NAME.py).
Loading is split in two so that bad input is refused before the seconds `import tensorflow` takes: the
loader reads and checks the data with the standard library and NumPy, and says what the model must take
and give (`DataSpec`); `pipelines.pipelines()` then builds the tf.data pipelines for training and validation.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import targets

TASKS = ("auto", "regression", "classification")
COLOR_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
# What keras.utils.image_dataset_from_directory reads.
IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png"}
# An integer-valued numeric target with at most this many distinct values is taken as class labels.
MAX_AUTO_CLASSES = 20


class DataError(ValueError):
    """The configured data cannot be used; the message names the file and the column or folder."""


@dataclass(frozen=True)
class DataSpec:
    """What the data asks of the model: its input shape, the task, and the classes (classification).
    `kind` is a short name of the data for messages (synthetic, csv, images, npz, yours)."""

    kind: str
    input_shape: tuple
    task: str  # "regression" or "classification"
    class_names: tuple = ()

    @property
    def n_outputs(self) -> int:
        return len(self.class_names) if self.task == "classification" else 1

    @property
    def is_images(self) -> bool:
        return len(self.input_shape) == 3  # height, width, channels


@dataclass
class Prepared:
    """Checked data, ready for pipelines(): arrays and a split (`from_arrays`), or `make_pipelines`, which
    builds the (training, validation or None) tf.data pipelines once TensorFlow is imported, from the
    batch size and the seed, with how many examples each of them holds."""

    spec: DataSpec
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    train_index: np.ndarray | None = None
    validation_index: np.ndarray | None = None
    make_pipelines: Callable[[int, int], tuple] | None = None
    n_pipeline_train: int = 0
    n_pipeline_validation: int = 0

    @property
    def n_validation(self) -> int:
        return self.n_pipeline_validation if self.make_pipelines else len(self.validation_index)

    @property
    def n_train(self) -> int:
        return self.n_pipeline_train if self.make_pipelines else len(self.train_index)


def prepare(cfg, seed: int) -> Prepared:
    """The configured data entry's loader, called with its keys and the run's seed (no TensorFlow)."""
    loader = targets.resolve(cfg, "data", DataError)
    prepared = targets.call(loader, cfg, "data", seed=seed)
    if not isinstance(prepared, Prepared):
        raise DataError(
            f"{targets.config_file('data')}: _target_ {cfg._target_} returned a {type(prepared).__name__}, not the "
            "Prepared data (see runtime/datasets.py: from_arrays for arrays, make_pipelines for tf.data)."
        )
    return prepared


def from_arrays(x: np.ndarray, y: np.ndarray, spec: DataSpec, validation_split: float, seed: int) -> Prepared:
    """Prepared data from arrays of examples (the first axis), with a seeded validation split."""
    if len(x) != len(y):
        raise DataError(f"data={spec.kind}: {len(x)} examples but {len(y)} targets.")
    train_index, validation_index = split_indices(len(x), validation_split, seed)
    return Prepared(spec, x=x, y=y, train_index=train_index, validation_index=validation_index)


def split_indices(n: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of the row numbers, cut into training and validation rows: the same seed, the same
    split, whatever the order the rows are read in later."""
    check_validation_split(validation_split)
    n_validation = round(n * validation_split)
    if n_validation == 0:
        return np.arange(n), np.arange(0)
    order = np.random.default_rng(seed).permutation(n)
    if n_validation >= n:
        raise DataError(f"data.validation_split={validation_split} leaves no training rows out of {n}.")
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def check_validation_split(split: float) -> None:
    if not 0.0 <= float(split) < 1.0:
        raise DataError(f"data.validation_split={split} must be at least 0 and below 1.")


def read_csv(path, target, features=None, task: str = "auto") -> tuple[np.ndarray, np.ndarray, DataSpec]:
    """A CSV with a header row: the feature columns (numbers) and the target column."""
    if not path:
        raise DataError("data=csv needs data.path=FILE and data.target=COLUMN.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file (data.path).")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise DataError(f"{path} is empty: a CSV needs a header row and data rows.")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if not body:
        raise DataError(f"{path} has a header but no data rows.")
    if target is None or target not in header:
        raise DataError(f"{path} has no column {target!r} (data.target); its columns are: {', '.join(header)}.")
    features = list(features) if features else [name for name in header if name != target]
    missing = [name for name in features if name not in header]
    if missing:
        raise DataError(f"{path} has no column {missing[0]!r} (data.features); its columns are: {', '.join(header)}.")
    if target in features or not features:
        raise DataError(f"{path}: data.features must name at least one column other than the target {target!r}.")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DataError(f"{path} line {number} has {len(row)} values, the header has {len(header)} columns.")

    x = np.empty((len(body), len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        column = header.index(name)
        for i, row in enumerate(body):
            try:
                x[i, j] = float(row[column])
            except ValueError:
                raise DataError(
                    f"{path} column {name!r} has a non-numeric value {row[column]!r} on line {i + 2}; "
                    "feature columns must be numbers (leave it out with data.features=[...])."
                ) from None
    values = [row[header.index(target)].strip() for row in body]
    y, task, classes = target_values(values, task, path, target)
    return x, y, DataSpec("csv", (len(features),), task, classes)


def target_values(values: list, task: str, path: Path, target: str) -> tuple[np.ndarray, str, tuple]:
    """The target as numbers, and the task: given, or (auto) classification for text labels and for a few
    distinct integers, else regression. Class labels become 0..n-1 in sorted order."""
    if task not in TASKS:
        raise DataError(f"data.task={task} is unknown; choose one of {', '.join(TASKS)}.")
    try:
        numbers = np.array([float(value) for value in values], dtype=np.float64)
    except ValueError:
        numbers = None
    if task == "auto":
        few_integers = (
            numbers is not None
            and np.all(numbers == np.round(numbers))
            and len(set(values)) <= min(MAX_AUTO_CLASSES, len(values) // 2)
        )
        task = "classification" if numbers is None or few_integers else "regression"
    if task == "regression":
        if numbers is None:
            bad = next(value for value in values if not is_number(value))
            raise DataError(
                f"{path} column {target!r} has a non-numeric value {bad!r}, so it cannot be a regression "
                "target; use data.task=classification."
            )
        return numbers.astype(np.float32).reshape(-1, 1), task, ()
    labels = sorted(set(values), key=lambda v: (float(v), v) if is_number(v) else (float("inf"), v))
    if len(labels) < 2:
        raise DataError(f"{path} column {target!r} has a single class {labels[0]!r}; classification needs two.")
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[value] for value in values], dtype=np.int32), task, tuple(labels)


def is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def list_image_folder(path, image_size, color_mode: str) -> tuple[Path, DataSpec, int]:
    """A folder with one sub-folder of images per class: the folder, its DataSpec and its image count."""
    if not path:
        raise DataError("data=images needs data.path=DIR (one sub-folder of images per class).")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (data.path).")
    if color_mode not in COLOR_CHANNELS:
        raise DataError(f"data.color_mode={color_mode} is unknown; choose one of {', '.join(COLOR_CHANNELS)}.")
    counts = {
        sub.name: sum(1 for f in sub.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        for sub in sorted(folder.iterdir())
        if sub.is_dir()
    }
    classes = tuple(name for name, count in counts.items() if count)
    if not classes:
        raise DataError(f"{folder} holds no images in class sub-folders (one sub-folder of images per class).")
    if len(classes) < 2:
        raise DataError(f"{folder} has a single class {classes[0]!r}; classification needs two class sub-folders.")
    height, width = (int(side) for side in image_size)
    spec = DataSpec("images", (height, width, COLOR_CHANNELS[color_mode]), "classification", classes)
    return folder, spec, sum(counts.values())
