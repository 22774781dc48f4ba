"""Keras training with Hydra configs and asserted device placement (Metal on Apple Silicon)."""
{%- if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}

import os

# Keras picks its backend once, when it is first imported: this stack's is PyTorch (it has no TensorFlow),
# whatever KERAS_BACKEND or ~/.keras/keras.json say. Every entry point and test imports this package first.
os.environ["KERAS_BACKEND"] = "torch"
{%- endif %}
