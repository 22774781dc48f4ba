"""The model, optimizer and compile settings: the seed's Dense(1) regression, generalised.

Everything that differs between Keras 2 (tf.keras of TF <= 2.15) and Keras 3 is decided here.
"""

from __future__ import annotations

from importlib.metadata import version

import tensorflow as tf

from .numerics import Recipe

keras = tf.keras  # Keras 3 on TF >= 2.16, Keras 2 on older stacks: one spelling for both.

OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}


def keras_version() -> str:
    # tf.keras of TF 2.15 has no __version__; the keras distribution it wraps has the same number.
    return getattr(keras, "__version__", None) or version("keras")


def keras_major() -> int:
    return int(keras_version().split(".")[0])


def build(n_features: int, units: int, hidden_units: list, activation: str) -> keras.Model:
    layers = [keras.Input(shape=(n_features,))]
    layers += [keras.layers.Dense(width, activation=activation) for width in hidden_units]
    layers.append(keras.layers.Dense(units))
    return keras.Sequential(layers)


def make_optimizer(name: str, apple_silicon: bool = False, **params) -> keras.optimizers.Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} is unknown; choose one of {', '.join(OPTIMIZERS)}")
    # Keras 2's TF 2.11+ optimizers run slowly on Apple Silicon; its legacy ones do not. Keras 3 has no legacy.
    family = keras.optimizers.legacy if apple_silicon and keras_major() < 3 else keras.optimizers
    return getattr(family, OPTIMIZERS[name])(**params)


def compile_model(model: keras.Model, optimizer, loss: str, jit_compile, on_metal: bool) -> None:
    # XLA has no Metal backend ("Could not find compiler for platform METAL"): never on the Metal GPU.
    if on_metal:
        jit_compile = False
    elif jit_compile == "auto" and keras_major() < 3:
        jit_compile = None  # Keras 2's spelling of "let Keras decide"
    model.compile(optimizer=optimizer, loss=loss, jit_compile=jit_compile)


def recipe(cfg, apple_silicon: bool) -> Recipe:
    """The configured model, optimizer and loss, made fresh on demand: for training and for the numerics check."""
    params = {key: value for key, value in cfg.optimizer.items() if key != "name"}
    return Recipe(
        build_model=lambda: build(
            cfg.data.n_features, cfg.model.units, list(cfg.model.hidden_units), cfg.model.activation
        ),
        make_optimizer=lambda learning_rate: make_optimizer(
            cfg.optimizer.name, apple_silicon=apple_silicon, **(params | {"learning_rate": learning_rate})
        ),
        loss=cfg.trainer.loss,
        learning_rate=params["learning_rate"],
    )


def set_seed(seed: int) -> None:
    keras.utils.set_random_seed(seed)
