"""On an Apple Silicon Mac: TensorFlow sees the Metal GPU and the model trains on it."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.accelerator import (
    METAL,
    assert_placement,
    device_problem,
    is_metal,
    metal_plugin_version,
    variable_device,
)
from markers import MACHINE, metal_only

pytestmark = metal_only


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


@pytest.fixture
def model(tf, compose_config):
    from {{ cookiecutter.package_name }}.data import DataSpec
    from {{ cookiecutter.package_name }}.model import compile_model, recipe

    made = recipe(compose_config(), DataSpec("synthetic", (10,), "regression"), apple_silicon=True)
    net = made.build()
    compile_model(net, made, jit_compile="auto", on_metal=True)
    return net


def test_this_python_can_use_metal():
    assert device_problem("metal", MACHINE, metal_plugin_version()) is None


def test_a_gpu_is_visible(tf):
    assert tf.config.list_physical_devices("GPU"), "TensorFlow sees no GPU: tensorflow-metal did not load"


def test_the_gpu_is_the_metal_pluggable_device(tf):
    gpu = tf.config.list_physical_devices("GPU")[0]
    details = tf.config.experimental.get_device_details(gpu)
    assert is_metal(details), f"GPU:0 is not the Metal device: {details}"


def test_model_variables_live_on_gpu0(model):
    for variable in model.trainable_variables:
        assert variable_device(variable).endswith("GPU:0"), f"{variable.name} is on {variable_device(variable)}"


def test_one_training_step_runs_on_the_gpu(tf, model):
    x = np.random.default_rng(0).random((32, 10), dtype=np.float32)
    loss = model.train_on_batch(x, x.sum(axis=1, keepdims=True))
    assert np.isfinite(loss)
    assert assert_placement(tf, model, METAL).endswith("GPU:0")
