"""Prepared data: what a data entry's loader returns (`Prepared`, with its `DataSpec`), the seeded split and
the training rows' statistics for the model's preprocessing (preprocessing.py).

`data=NAME` selects conf/data/NAME.yaml, whose `_target_` names the loader (src/<package>/data/NAME.py).
Loading is split in two so that bad input is refused before the seconds `import tensorflow` takes: the
loader reads and checks the data with NumPy, pandas and Pillow (tables.py reads a CSV, image_folders.py lists
and decodes an image folder), and says what the model must take and give (`DataSpec`); `pipelines.pipelines()`
then builds the seeded, batched, cached and prefetched tf.data pipelines for training and validation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import preprocessing, targets

log = logging.getLogger(__name__)

COLOR_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


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
    # the training rows' statistics the model's preprocessing layers take (data.normalize; preprocessing.py)
    preprocessing: preprocessing.Statistics = field(default_factory=preprocessing.Statistics)

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


def from_arrays(
    x: np.ndarray,
    y: np.ndarray,
    spec: DataSpec,
    validation_split: float,
    seed: int,
    normalize: bool = False,
    fill_missing: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Prepared:
    """Prepared data from arrays of examples (the first axis), with a seeded validation split. `normalize`:
    the model standardises rows of features (and a regression target) with the training rows' statistics;
    `fill_missing(x, train_index)` fills missing cells once the training rows are known."""
    if len(x) != len(y):
        raise DataError(f"data={spec.kind}: {len(x)} examples but {len(y)} targets.")
    train_index, validation_index = split_indices(len(x), validation_split, seed)
    if fill_missing is not None:
        x = fill_missing(x, train_index)
    stats = preprocessing.statistics(x, y, train_index, spec.task, normalize and x.ndim == 2)
    log.info("data: %s", preprocessing.describe(stats))
    return Prepared(spec, x=x, y=y, train_index=train_index, validation_index=validation_index, preprocessing=stats)


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
