"""Which Keras backend this project's stack runs on, and Keras imported on it.

A TensorFlow stack trains with `tf.keras` (Keras 3 on TensorFlow >= 2.16, Keras 2 before, tf_keras under
TF_USE_LEGACY_KERAS=1). The keras-torch stack has no TensorFlow at all: Keras 3 on PyTorch, whose backend
is chosen by KERAS_BACKEND when Keras is first imported. The package's __init__ sets it, so every entry
point and test selects torch before anything imports Keras; `keras()` asserts that it did.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np

from .stack import load_stack

TORCH = "torch"


class BackendError(RuntimeError):
    """Keras runs on another backend than the stack's; the message says why and what to do."""


@cache
def name() -> str:
    """The stack's backend: "tensorflow" or "torch" (stack.json; no import)."""
    return load_stack().backend


def is_torch() -> bool:
    return name() == TORCH


def keras():
    """The Keras module the project builds and trains with, on the stack's backend."""
    if not is_torch():
        import tensorflow as tf

        return tf.keras
    os.environ["KERAS_BACKEND"] = TORCH  # in case this runs before the package's __init__ (it never should)
    import keras

    if keras.config.backend() != TORCH:
        raise BackendError(
            f"Keras was imported with the {keras.config.backend()} backend before this project set KERAS_BACKEND="
            f"torch (the keras-torch stack has no other backend): import {__package__.split('.')[0]} before keras, "
            "or start Python with KERAS_BACKEND=torch."
        )
    return keras


def to_numpy(tensor) -> np.ndarray:
    """A tensor the model gave, as a NumPy array: a torch tensor that tracks gradients refuses np.asarray."""
    if is_torch():
        return keras().ops.convert_to_numpy(tensor)
    return np.asarray(tensor)
