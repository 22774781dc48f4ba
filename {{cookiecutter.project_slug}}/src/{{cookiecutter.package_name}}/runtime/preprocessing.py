"""Preprocessing that travels inside the model, so `model.keras` takes raw rows and answers in the target's units.

With `data.normalize=true` (the default for tables), the features are standardised by a Keras `Normalization`
layer in front of the configured model, and a regression's output is mapped back to the target's units by a
`Rescaling` layer behind it: the configured model sees standardised features and learns standardised targets.
The statistics come from the training rows only, computed here with NumPy (no TensorFlow) and given to the
layers as constants: every fresh copy of the model (the numerics check builds several) is the same, no
`adapt()` pass over a tf.data pipeline is needed, and reloading `model.keras` needs no custom objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Statistics:
    """The training rows' feature means and variances, and a regression target's mean and standard deviation;
    None where nothing is standardised."""

    feature_mean: tuple | None = None
    feature_variance: tuple | None = None
    target_mean: float | None = None
    target_std: float | None = None

    @property
    def active(self) -> bool:
        return self.feature_mean is not None


def statistics(x: np.ndarray, y: np.ndarray, train_index: np.ndarray, task: str, normalize: bool) -> Statistics:
    """What the model's preprocessing layers need, from the training rows alone (never validation rows)."""
    if not normalize:
        return Statistics()
    rows = np.asarray(x[train_index], dtype=np.float64)
    variance = rows.var(axis=0)
    # A constant column would be divided by ~0: it carries no information, so it only gets centred.
    variance[variance == 0] = 1.0
    stats = {"feature_mean": tuple(rows.mean(axis=0).tolist()), "feature_variance": tuple(variance.tolist())}
    if task == "regression":
        target = np.asarray(y[train_index], dtype=np.float64)
        std = float(target.std())
        stats |= {"target_mean": float(target.mean()), "target_std": std if std > 0 else 1.0}
    return Statistics(**stats)


def describe(stats: Statistics) -> str:
    if not stats.active:
        return "features and target go into the model as they are (data.normalize=false)"
    text = f"{len(stats.feature_mean)} features standardised inside the model (training rows' mean and variance)"
    if stats.target_mean is not None:
        text += (
            f"; the model learns the target standardised and answers in its units "
            f"(mean {stats.target_mean:.4g}, std {stats.target_std:.4g})"
        )
    return text


def wrap(keras, model, spec, stats: Statistics):
    """The model to train: the user's model behind the preprocessing its data needs, so that model.keras takes
    the data as it is read and answers in the target's units. Images (data=images, pixels 0-255) are rescaled to
    [0, 1]; rows with statistics (data.normalize=true) are standardised, and a regression's output mapped back to
    the target's units. Without any, the user's model itself (experiment=seed trains exactly the seed's Dense(1)).
    Built-in layers only, so `keras.models.load_model` reloads it as it is."""
    if spec.kind == "images":
        inputs = keras.Input(shape=spec.input_shape)
        return keras.Model(inputs, model(keras.layers.Rescaling(1.0 / 255)(inputs)), name=f"{model.name}_on_pixels")
    if not stats.active:
        return model
    inputs = keras.Input(shape=spec.input_shape)
    normalize = keras.layers.Normalization(
        mean=list(stats.feature_mean), variance=list(stats.feature_variance), name="standardise_features"
    )
    outputs = model(normalize(inputs))
    if stats.target_mean is not None:
        outputs = keras.layers.Rescaling(stats.target_std, offset=stats.target_mean, name="target_units")(outputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_on_raw_rows")
