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
    # a table's feature columns in the model's input order, and its target column (predict.py reads them by name)
    feature_names: tuple = ()
    target_name: str | None = None

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
    batch size and the seed, with how many examples each of them holds. `test_index`: the held-out test rows
    (data.test_split), never in training or validation; evaluate.py and export use them (runtime/rundir.py).
    Image folders give both: `x` holds the image files, `make_pipelines` decodes them."""

    spec: DataSpec
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    train_index: np.ndarray | None = None
    validation_index: np.ndarray | None = None
    test_index: np.ndarray | None = None
    make_pipelines: Callable[[int, int], tuple] | None = None
    n_pipeline_train: int = 0
    n_pipeline_validation: int = 0
    # the training rows' statistics the model's preprocessing layers take (data.normalize; preprocessing.py)
    preprocessing: preprocessing.Statistics = field(default_factory=preprocessing.Statistics)

    @property
    def n_validation(self) -> int:
        return self.n_pipeline_validation if self.validation_index is None else len(self.validation_index)

    @property
    def n_train(self) -> int:
        return self.n_pipeline_train if self.train_index is None else len(self.train_index)

    @property
    def n_test(self) -> int:
        return 0 if self.test_index is None else len(self.test_index)

    def rows(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the given rows (for image folders, x holds the files)."""
        if self.x is None:
            raise DataError(
                f"data={self.spec.kind}: its loader gives tf.data pipelines only, no rows to evaluate or predict on."
            )
        return self.x[index], self.y[index]


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
    test_split: float = 0.0,
) -> Prepared:
    """Prepared data from arrays of examples (the first axis), with seeded validation and test splits.
    `normalize`: the model standardises rows of features (and a regression target) with the training rows'
    statistics; `fill_missing(x, train_index)` fills missing cells once the training rows are known."""
    if len(x) != len(y):
        raise DataError(f"data={spec.kind}: {len(x)} examples but {len(y)} targets.")
    train_index, validation_index, test_index = split_rows(len(x), validation_split, test_split, seed)
    if fill_missing is not None:
        x = fill_missing(x, train_index)
    stats = preprocessing.statistics(x, y, train_index, spec.task, normalize and x.ndim == 2)
    log.info("data: %s", preprocessing.describe(stats))
    return Prepared(
        spec,
        x=x,
        y=y,
        train_index=train_index,
        validation_index=validation_index,
        test_index=test_index,
        preprocessing=stats,
    )


def class_weights(prepared: Prepared, setting: str | None) -> dict | None:
    """trainer.class_weight: None, or `balanced`: each class weighted n / (k * its count) over the training
    rows (scikit-learn's formula), so that every class weighs as much in the loss; a class without training
    rows keeps 1."""
    if setting in (None, "none"):
        return None
    if setting != "balanced":
        raise DataError(f"trainer.class_weight={setting} is unknown; choose balanced or null.")
    if prepared.spec.task != "classification":
        raise DataError("trainer.class_weight=balanced weighs classes, but this data is regression (no classes).")
    if prepared.y is None:
        raise DataError(f"trainer.class_weight=balanced: data={prepared.spec.kind} gives no labels to count.")
    counts = np.bincount(np.asarray(prepared.y)[prepared.train_index].reshape(-1), minlength=prepared.spec.n_outputs)
    total, k = counts.sum(), prepared.spec.n_outputs
    return {label: float(total / (k * count)) if count else 1.0 for label, count in enumerate(counts.tolist())}


def split_rows(
    n: int, validation_split: float, test_split: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded shuffle of the row numbers, cut into validation, test and training rows (sorted, disjoint): a
    pure function of the row count, the two shares and the seed, so a run's config rebuilds its split. The
    validation rows are the first of the shuffle whatever test_split is (test_split=0 is the two-way split)."""
    check_split("validation_split", validation_split)
    check_split("test_split", test_split)
    n_validation, n_test = round(n * validation_split), round(n * test_split)
    if n_validation + n_test >= n:
        raise DataError(
            f"data.validation_split={validation_split} and data.test_split={test_split} leave no training rows "
            f"out of {n}."
        )
    order = np.random.default_rng(seed).permutation(n) if n_validation + n_test else np.arange(n)
    held_out = n_validation + n_test
    return np.sort(order[held_out:]), np.sort(order[:n_validation]), np.sort(order[n_validation:held_out])


def split_indices(n: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and validation rows of a split without test rows (split_rows with test_split=0)."""
    train_index, validation_index, _ = split_rows(n, validation_split, 0.0, seed)
    return train_index, validation_index


def check_split(key: str, split: float) -> None:
    if not 0.0 <= float(split) < 1.0:
        raise DataError(f"data.{key}={split} must be at least 0 and below 1.")
