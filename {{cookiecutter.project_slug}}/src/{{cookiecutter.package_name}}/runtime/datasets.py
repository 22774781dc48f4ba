"""The data group: synthetic (the seed's example), csv and images, as tf.data pipelines (pipelines.py).

Loading is split in two so that bad input is refused before the seconds `import tensorflow` takes:
`prepare()` reads and checks the data with the standard library and NumPy (a CSV is parsed, an image
folder is listed) and says what the model must take and give (`DataSpec`); `pipelines.pipelines()` then builds
the seeded, batched, cached and prefetched tf.data pipelines for training and validation.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("synthetic", "csv", "images")
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
    """What the data asks of the model: its input shape, the task, and the classes (classification)."""

    kind: str
    input_shape: tuple
    task: str  # "regression" or "classification"
    class_names: tuple = ()

    @property
    def n_outputs(self) -> int:
        return len(self.class_names) if self.task == "classification" else 1

    @property
    def is_images(self) -> bool:
        return self.kind == "images"


@dataclass
class Prepared:
    """Checked data, ready for pipelines(): arrays and a split (synthetic, csv), or an image folder."""

    spec: DataSpec
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    train_index: np.ndarray | None = None
    validation_index: np.ndarray | None = None
    folder: Path | None = None
    n_files: int = 0
    validation_split: float = 0.0

    @property
    def n_validation(self) -> int:
        if self.folder is not None:  # image_dataset_from_directory's own arithmetic
            return int(self.validation_split * self.n_files)
        return len(self.validation_index)

    @property
    def n_train(self) -> int:
        return (self.n_files if self.folder is not None else len(self.x)) - self.n_validation


def prepare(cfg, seed: int) -> Prepared:
    """Read and check the configured data (no TensorFlow): arrays or a folder, a split, and a DataSpec."""
    kind = cfg.kind
    if kind not in KINDS:
        raise DataError(f"data.kind={kind} is unknown; choose data={', data='.join(KINDS)}.")
    split = float(cfg.validation_split)
    if not 0.0 <= split < 1.0:
        raise DataError(f"data.validation_split={split} must be at least 0 and below 1.")
    if kind == "images":
        return prepare_images(cfg, split)
    if kind == "synthetic":
        x, y = make_regression(cfg.n_samples, cfg.n_features, cfg.noise, seed, signal=cfg.signal)
        spec = DataSpec("synthetic", (cfg.n_features,), "regression")
    else:
        x, y, spec = read_csv(cfg)
    train_index, validation_index = split_indices(len(x), split, seed)
    return Prepared(spec, x=x, y=y, train_index=train_index, validation_index=validation_index)


def make_regression(
    n_samples: int, n_features: int, noise: float, seed: int, signal: str = "linear"
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform inputs; y = x @ w + b + noise (signal=linear), or uniform random like the seed's script
    (signal=none). float32, the same for the same seed."""
    rng = np.random.default_rng(seed)
    x = rng.random((n_samples, n_features), dtype=np.float32)
    if signal == "none":
        return x, rng.random((n_samples, 1), dtype=np.float32)
    if signal != "linear":
        raise DataError(f"data.signal={signal} is unknown; choose linear or none.")
    weights = rng.normal(size=(n_features, 1)).astype(np.float32)
    bias = np.float32(rng.normal())
    y = x @ weights + bias + noise * rng.normal(size=(n_samples, 1)).astype(np.float32)
    return x, y.astype(np.float32)


def split_indices(n: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of the row numbers, cut into training and validation rows: the same seed, the same
    split, whatever the order the rows are read in later."""
    n_validation = round(n * validation_split)
    if n_validation == 0:
        return np.arange(n), np.arange(0)
    order = np.random.default_rng(seed).permutation(n)
    if n_validation >= n:
        raise DataError(f"data.validation_split={validation_split} leaves no training rows out of {n}.")
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def read_csv(cfg) -> tuple[np.ndarray, np.ndarray, DataSpec]:
    """A CSV with a header row: the feature columns (numbers) and the target column."""
    if not cfg.path:
        raise DataError("data=csv needs data.path=FILE and data.target=COLUMN.")
    path = Path(cfg.path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file (data.path).")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise DataError(f"{path} is empty: a CSV needs a header row and data rows.")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if not body:
        raise DataError(f"{path} has a header but no data rows.")
    target = cfg.target
    if target is None or target not in header:
        raise DataError(f"{path} has no column {target!r} (data.target); its columns are: {', '.join(header)}.")
    features = list(cfg.features) if cfg.features else [name for name in header if name != target]
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
    y, task, classes = target_values(values, cfg.task, path, target)
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


def prepare_images(cfg, split: float) -> Prepared:
    """A folder with one sub-folder of images per class."""
    if not cfg.path:
        raise DataError("data=images needs data.path=DIR (one sub-folder of images per class).")
    folder = Path(cfg.path).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (data.path).")
    if cfg.color_mode not in COLOR_CHANNELS:
        raise DataError(f"data.color_mode={cfg.color_mode} is unknown; choose one of {', '.join(COLOR_CHANNELS)}.")
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
    height, width = (int(side) for side in cfg.image_size)
    spec = DataSpec("images", (height, width, COLOR_CHANNELS[cfg.color_mode]), "classification", classes)
    return Prepared(spec, folder=folder, n_files=sum(counts.values()), validation_split=split)
