"""model=linear: the seed's model, Dense(1) on the inputs (a linear regression); with classes, one unit per
class and a softmax over them (a multinomial logistic regression)."""

from __future__ import annotations

{% if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}# Keras 3 on PyTorch: the package's __init__ chose the backend (KERAS_BACKEND=torch) before this import.
import keras
{% else %}# TensorFlow's Keras: Keras 3, or tf-keras (Keras 2) where the stack or distribute=multi_worker trains with it.
from tensorflow import keras
{% endif %}
from ..runtime.datasets import DataSpec
from . import mlp


def build(spec: DataSpec, hidden_units: list = (), activation: str = "relu", name: str = "linear") -> keras.Model:
    if hidden_units:  # model.hidden_units=[...] (kept from earlier versions of this project): then it is an MLP
        return mlp.build(spec, hidden_units, activation, name)
    layers = [keras.Input(shape=spec.input_shape)]
    if len(spec.input_shape) > 1:  # images: one row of numbers each
        layers.append(keras.layers.Flatten())
    layers.append(keras.layers.Dense(spec.n_outputs, activation="softmax" if spec.task == "classification" else None))
    return keras.Sequential(layers, name=name)
