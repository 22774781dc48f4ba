"""model=cnn: a small conv net for images (data=images): Conv2D + MaxPooling per entry of `filters`, the head
(Flatten, or global average pooling), then Dense layers. Its inputs arrive scaled to [0, 1]: the project adds
the Rescaling."""

from __future__ import annotations

{% if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}import keras  # Keras 3 on PyTorch (KERAS_BACKEND=torch, set by the package)
{% else %}from tensorflow import keras
{% endif %}
from ..runtime.build import ModelError
from ..runtime.datasets import DataSpec

HEADS = ("flatten", "global_average")


def build(
    spec: DataSpec,
    filters: list = (16, 32),
    kernel_size: int = 3,
    hidden_units: list = (64,),
    activation: str = "relu",
    head: str = "flatten",
    name: str = "cnn",
) -> keras.Model:
    if not spec.is_images:
        raise ModelError(
            f"model=cnn needs images (data=images), but data={spec.kind} gives rows of {spec.input_shape[0]} "
            "numbers; use model=mlp or model=linear."
        )
    layers = [keras.Input(shape=spec.input_shape)]
    for width in filters:
        layers += [
            keras.layers.Conv2D(width, kernel_size, padding="same", activation=activation),
            keras.layers.MaxPooling2D(),
        ]
    # Flatten keeps where each feature was (a digit is told from another by where its strokes are); global
    # average pooling keeps only whether a feature occurs (fewer weights on large images), and sits at chance
    # on 8x8 digits.
    if head not in HEADS:
        raise ModelError(f"model.head={head} is unknown; choose {' or '.join(HEADS)}.")
    layers.append(keras.layers.Flatten() if head == "flatten" else keras.layers.GlobalAveragePooling2D())
    layers += [keras.layers.Dense(width, activation=activation) for width in hidden_units]
    layers.append(keras.layers.Dense(spec.n_outputs, activation="softmax" if spec.task == "classification" else None))
    return keras.Sequential(layers, name=name)
