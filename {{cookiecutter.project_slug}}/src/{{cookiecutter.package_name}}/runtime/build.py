"""The model to train: the user's model from the model entry's `_target_`, checked against the data and
wrapped in the project's preprocessing; the optimizer; the loss and metrics for the data's task.

`model=NAME` selects conf/model/NAME.yaml, whose `_target_` (src/<package>/models/NAME.py for the shipped
ones) is called with `spec=` (the data's `DataSpec`) and the file's other keys, and returns an uncompiled
Keras model. Everything that differs between Keras 2 (tf.keras of TF <= 2.15) and Keras 3 is decided here.
TensorFlow is imported on first use, so that `check_fits` can refuse a model entry before that import.
"""

from __future__ import annotations

import contextlib
import os
from functools import partial
from importlib.metadata import version

import numpy as np

from . import backend, datasets, preprocessing, targets
from .datasets import DataSpec
from .numerics import Recipe
from .stack import installed

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
    return backend.keras()


def keras_version() -> str:
    # tf.keras of TF 2.15 has no __version__; the keras distribution it wraps has the same number. With
    # TF_USE_LEGACY_KERAS=1 (distribute=multi_worker on a Keras 3 stack) tf.keras is tf_keras, the Keras 2
    # of TF >= 2.16, which has none either.
    legacy = os.environ.get("TF_USE_LEGACY_KERAS") == "1" and installed("tf-keras")
    return getattr(_keras(), "__version__", None) or legacy or version("keras")


def keras_major() -> int:
    return int(keras_version().split(".")[0])


def check_fits(cfg) -> None:
    """Refuse a model entry whose `_target_` cannot be imported (no TensorFlow needed: its module is found,
    not imported, since importing it imports Keras)."""
    targets.importable(cfg, "model", ModelError)


def build(cfg, spec: DataSpec, stats: preprocessing.Statistics | None = None, probabilities: bool = True):
    """A fresh, uncompiled model of the configured entry for this data, with the preprocessing around it
    (`stats`: the training rows' statistics, preprocessing.py). `probabilities`: a classifier must end in a
    softmax (the task's default loss takes probabilities)."""
    keras = _keras()
    made = targets.call(targets.resolve(cfg, "model", ModelError), cfg, "model", spec=spec)
    check_model(keras, made, spec, f"{targets.config_file('model')}: _target_ {cfg._target_}", probabilities)
    return preprocessing.wrap(keras, made, spec, stats or preprocessing.Statistics())


def check_model(keras, model, spec: DataSpec, source: str, probabilities: bool) -> None:
    """The entry returned a Keras model whose output fits the task: one value per example for regression,
    one probability per class for classification. Checked on a batch of two random examples."""
    if not isinstance(model, keras.Model):
        raise ModelError(
            f"{source} returned a {type(model).__name__}, not a Keras model (Sequential, functional, or a "
            "subclass of keras.Model)."
        )
    inputs = np.random.default_rng(0).random((2, *spec.input_shape), dtype=np.float32)
    outputs = backend.to_numpy(model(inputs, training=False))
    wanted = f"({spec.n_outputs},)" + (" (one probability per class)" if spec.task == "classification" else "")
    if outputs.shape != (2, spec.n_outputs):
        raise ModelError(
            f"{source} gives outputs of shape {outputs.shape[1:]} per example; the data's {spec.task} needs {wanted}."
        )
    if spec.task == "classification" and probabilities:
        if outputs.min() < 0 or not np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3):
            raise ModelError(f"{source} must end in a softmax: its outputs are not one probability per class.")
    elif spec.task == "regression" and np.all(outputs == 1.0):
        raise ModelError(f"{source} outputs a constant 1 (a softmax over one unit?); regression needs a linear output.")


def make_optimizer(name: str, apple_silicon: bool = False, **params):
    """One of OPTIMIZERS (conf/schema.py refuses any other name before TensorFlow's import)."""
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
    check_fits(cfg.model)
    loss = TASK_LOSS[spec.task] if cfg.trainer.loss == "auto" else cfg.trainer.loss
    params = {key: value for key, value in cfg.optimizer.items() if key not in ("name", "learning_rate")}
    return Recipe(
        build_model=partial(build, cfg.model, spec, stats, probabilities=cfg.trainer.loss == "auto"),
        make_optimizer=lambda learning_rate: make_optimizer(
            cfg.optimizer.name, apple_silicon=apple_silicon, learning_rate=learning_rate, **params
        ),
        loss=loss,
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
    """Seed Python, NumPy and the backend (TensorFlow or torch); with `deterministic`, also make the backend's
    ops deterministic (slower on GPUs; on the CPU the seeded runs already repeat)."""
    _keras().utils.set_random_seed(seed)
    if not deterministic:
        return
    if backend.is_torch():
        import torch

        # cuBLAS is deterministic only with a fixed workspace, set before CUDA starts (torch's reproducibility notes)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        return
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
