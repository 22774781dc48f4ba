"""model=mlp: hidden Dense layers in front of the output layer."""

from __future__ import annotations

{% if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}import keras  # Keras 3 on PyTorch (KERAS_BACKEND=torch, set by the package)
{% else %}from tensorflow import keras
{% endif %}
from ..runtime.datasets import DataSpec


def build(spec: DataSpec, hidden_units: list = (32, 32), activation: str = "relu", name: str = "mlp") -> keras.Model:
    layers = [keras.Input(shape=spec.input_shape)]
    if len(spec.input_shape) > 1:  # images: one row of numbers each
        layers.append(keras.layers.Flatten())
    layers += [keras.layers.Dense(width, activation=activation) for width in hidden_units]
    layers.append(keras.layers.Dense(spec.n_outputs, activation="softmax" if spec.task == "classification" else None))
    return keras.Sequential(layers, name=name)
