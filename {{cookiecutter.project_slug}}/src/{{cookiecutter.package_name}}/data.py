"""The data group: synthetic (the seed's example), csv and images, as tf.data pipelines (pipelines.py).

Loading is split in two so that bad input is refused before the seconds `import tensorflow` takes:
`prepare()` reads and checks the data with NumPy, pandas and Pillow (a CSV is parsed in tables.py, an image
folder listed and decoded in image_folders.py), says what the model must take and give (`DataSpec`) and takes
the training rows' statistics for the model's preprocessing (preprocessing.py); `pipelines.pipelines()` then
builds the seeded, batched, cached and prefetched tf.data pipelines for training and validation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import preprocessing

log = logging.getLogger(__name__)

KINDS = ("synthetic", "csv", "images")
COLOR_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


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
    # the training rows' statistics the model's preprocessing layers take (data.normalize; preprocessing.py)
    preprocessing: preprocessing.Statistics = field(default_factory=preprocessing.Statistics)

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
    if kind == "csv":
        from . import tables

        x = tables.fill_missing_features(x, train_index, cfg.path)
    stats = preprocessing.statistics(x, y, train_index, spec.task, bool(cfg.get("normalize", False)))
    log.info("data: %s", preprocessing.describe(stats))
    return Prepared(spec, x=x, y=y, train_index=train_index, validation_index=validation_index, preprocessing=stats)


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
    """A CSV with a header row: the feature columns (numbers) and the target column (tables.py)."""
    from . import tables  # tables.py takes DataError and DataSpec from here

    options = {key: cfg[key] for key in ("missing", "missing_features", "delimiter", "encoding") if key in cfg}
    return tables.read_csv(cfg.path, cfg.target, cfg.features, cfg.task, **options)


def prepare_images(cfg, split: float) -> Prepared:
    """A folder with one sub-folder of images per class."""
    if not cfg.path:
        raise DataError("data=images needs data.path=DIR (one sub-folder of images per class).")
    if cfg.color_mode not in COLOR_CHANNELS:
        raise DataError(f"data.color_mode={cfg.color_mode} is unknown; choose one of {', '.join(COLOR_CHANNELS)}.")
    from . import image_folders  # image_folders.py takes DataError from here

    found = image_folders.check(Path(cfg.path).expanduser(), bool(cfg.get("skip_bad_files", False)))
    height, width = (int(side) for side in cfg.image_size)
    spec = DataSpec("images", (height, width, COLOR_CHANNELS[cfg.color_mode]), "classification", found.classes)
    return Prepared(spec, folder=found.path, n_files=found.n_files, validation_split=split)
