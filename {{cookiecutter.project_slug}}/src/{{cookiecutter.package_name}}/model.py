"""The model, optimizer and compile settings: the seed's Dense(1) regression, generalised.

Everything that differs between Keras 2 (tf.keras of TF <= 2.15) and Keras 3 is decided here.
"""

from __future__ import annotations

import tensorflow as tf

keras = tf.keras  # Keras 3 on TF >= 2.16, Keras 2 on older stacks: one spelling for both.

OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}


def keras_major() -> int:
    return int(keras.__version__.split(".")[0]) if hasattr(keras, "__version__") else 2


def build(n_features: int, units: int, hidden_units: list, activation: str) -> keras.Model:
    layers = [keras.Input(shape=(n_features,))]
    layers += [keras.layers.Dense(width, activation=activation) for width in hidden_units]
    layers.append(keras.layers.Dense(units))
    return keras.Sequential(layers)


def make_optimizer(name: str, **params) -> keras.optimizers.Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} is unknown; choose one of {', '.join(OPTIMIZERS)}")
    return getattr(keras.optimizers, OPTIMIZERS[name])(**params)


def compile_model(model: keras.Model, optimizer, loss: str, jit_compile, on_metal: bool) -> None:
    # XLA has no Metal backend ("Could not find compiler for platform METAL"): never on the Metal GPU.
    if on_metal:
        jit_compile = False
    elif jit_compile == "auto" and keras_major() < 3:
        jit_compile = None  # Keras 2's spelling of "let Keras decide"
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit_compile)


def set_seed(seed: int) -> None:
    keras.utils.set_random_seed(seed)
