"""The model group (linear, mlp, cnn), the optimizer, and the loss and metrics for the data's task.

The architecture's input shape and output size come from the data (`data.DataSpec`). Everything that
differs between Keras 2 (tf.keras of TF <= 2.15) and Keras 3 is decided here. TensorFlow is imported on
first use, so that `check_fits` can refuse a model that does not fit the data before that import.
"""

from __future__ import annotations

import contextlib
import os
from functools import partial
from importlib.metadata import version

from . import data as datasets
from . import preprocessing
from .data import DataSpec
from .numerics import Recipe
from .stack import installed

MODELS = ("linear", "mlp", "cnn")
CNN_HEADS = ("flatten", "global_average")
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}
TASK_LOSS = {"regression": "mse", "classification": "sparse_categorical_crossentropy"}
TASK_METRICS = {"regression": ["mae"], "classification": ["accuracy"]}


class ModelError(ValueError):
    """The configured model does not fit the data; the message says which model does."""


def __getattr__(name: str):
    if name == "keras":  # `model.keras`: tf.keras, Keras 3 on TF >= 2.16 and Keras 2 before, imported on use
        return _keras()
    raise AttributeError(name)


def _keras():
    import tensorflow as tf

    return tf.keras


def keras_version() -> str:
    # tf.keras of TF 2.15 has no __version__; the keras distribution it wraps has the same number. With
    # TF_USE_LEGACY_KERAS=1 (distribute=multi_worker on a Keras 3 stack) tf.keras is tf_keras, the Keras 2
    # of TF >= 2.16, which has none either.
    legacy = os.environ.get("TF_USE_LEGACY_KERAS") == "1" and installed("tf-keras")
    return getattr(_keras(), "__version__", None) or legacy or version("keras")


def keras_major() -> int:
    return int(keras_version().split(".")[0])


def check_fits(cfg, spec: DataSpec) -> None:
    """Refuse a model the data cannot feed (no TensorFlow needed)."""
    if cfg.name not in MODELS:
        raise ModelError(f"model={cfg.name} is unknown; choose model={', model='.join(MODELS)}.")
    if cfg.name == "cnn" and not spec.is_images:
        raise ModelError(
            f"model=cnn needs images (data=images), but data={spec.kind} gives rows of {spec.input_shape[0]} "
            "numbers; use model=mlp or model=linear."
        )


def build(cfg, spec: DataSpec):
    """A fresh, uncompiled model of the configured architecture for this data."""
    check_fits(cfg, spec)
    keras = _keras()
    layers = [keras.Input(shape=spec.input_shape)]
    if spec.is_images:
        layers.append(keras.layers.Rescaling(1.0 / 255))
    if cfg.name == "cnn":
        for filters in cfg.filters:
            layers += [
                keras.layers.Conv2D(filters, cfg.kernel_size, padding="same", activation=cfg.activation),
                keras.layers.MaxPooling2D(),
            ]
        # Flatten keeps where each feature was (a digit is told from another by where its strokes are);
        # global average pooling keeps only whether a feature occurs, and sits at chance on 8x8 digits.
        head = cfg.get("head", "flatten")
        if head not in CNN_HEADS:
            raise ModelError(f"model.head={head} is unknown; choose {' or '.join(CNN_HEADS)}.")
        layers.append(keras.layers.Flatten() if head == "flatten" else keras.layers.GlobalAveragePooling2D())
    elif spec.is_images:
        layers.append(keras.layers.Flatten())
    layers += [keras.layers.Dense(width, activation=cfg.activation) for width in cfg.hidden_units]
    # The seed's model is exactly Dense(1) on the inputs; classification puts a softmax over the classes.
    layers.append(keras.layers.Dense(spec.n_outputs, activation="softmax" if spec.task == "classification" else None))
    return keras.Sequential(layers)


def make_optimizer(name: str, apple_silicon: bool = False, **params):
    if name not in OPTIMIZERS:
        raise ModelError(f"optimizer={name} is unknown; choose optimizer={', optimizer='.join(OPTIMIZERS)}.")
    keras = _keras()
    # Keras 2's TF 2.11+ optimizers run slowly on Apple Silicon; its legacy ones do not. Keras 3 has no legacy.
    family = keras.optimizers.legacy if apple_silicon and keras_major() < 3 else keras.optimizers
    return getattr(family, OPTIMIZERS[name])(**params)


def recipe(
    cfg, apple_silicon: bool, spec: DataSpec | None = None, stats: preprocessing.Statistics | None = None
) -> Recipe:
    """The configured model, optimizer and loss for the data's task, made fresh on demand: for training,
    and for the numerics check, which needs copies of them on two devices. The model is wrapped in the data's
    preprocessing (`stats`, the training rows' statistics). Without `spec`, the configured data is read to
    find both."""
    if spec is None:
        prepared = datasets.prepare(cfg.data, cfg.seed)
        spec, stats = prepared.spec, prepared.preprocessing
    check_fits(cfg.model, spec)
    params = {key: value for key, value in cfg.optimizer.items() if key not in ("name", "learning_rate")}
    return Recipe(
        build_model=partial(
            preprocessing.wrap, partial(build, cfg.model, spec), stats or preprocessing.Statistics(), spec.input_shape
        ),
        make_optimizer=lambda learning_rate: make_optimizer(
            cfg.optimizer.name, apple_silicon=apple_silicon, learning_rate=learning_rate, **params
        ),
        loss=TASK_LOSS[spec.task] if cfg.trainer.loss == "auto" else cfg.trainer.loss,
        learning_rate=cfg.optimizer.learning_rate,
    )


def metrics_for(cfg, spec: DataSpec) -> list:
    """The metrics fit reports besides the loss: by the task, unless trainer.metrics lists them."""
    return TASK_METRICS[spec.task] if cfg.trainer.metrics == "auto" else list(cfg.trainer.metrics)


def compile_model(model, optimizer, loss, jit_compile, on_metal: bool, metrics: list | None = None) -> None:
    # XLA has no Metal backend ("Could not find compiler for platform METAL"): never on the Metal GPU.
    if on_metal:
        jit_compile = False
    elif jit_compile == "auto" and keras_major() < 3:
        jit_compile = None  # Keras 2's spelling of "let Keras decide"
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or None, jit_compile=jit_compile)


def build_compiled(made: Recipe, cfg, spec, on_metal: bool, strategy=None):
    """A fresh model of the recipe, compiled as training runs it (train and bench share this). Under a
    tf.distribute strategy the model, its optimizer and its metrics are all made inside its scope, so
    their variables are mirrored on every replica."""
    jit_compile = cfg.trainer.jit_compile
    if strategy is not None and strategy.num_replicas_in_sync > 1 and on_cpu(strategy):
        jit_compile = False  # XLA has no collectives on the CPU ("not yet implemented for CPU devices")
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = made.build_model()
        optimizer = made.make_optimizer(made.learning_rate)
        compile_model(model, optimizer, made.loss, jit_compile, on_metal, metrics_for(cfg, spec))
    return model


def on_cpu(strategy) -> bool:
    return any("CPU" in device.upper() for device in strategy.extended.worker_devices)


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow; with `deterministic`, also make TensorFlow's ops deterministic
    (slower on GPUs; on the CPU the seeded runs already repeat)."""
    _keras().utils.set_random_seed(seed)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
