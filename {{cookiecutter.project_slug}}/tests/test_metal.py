{%- set on_torch = cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" -%}
{%- if on_torch -%}
"""On an Apple Silicon Mac: torch can use MPS (the Apple GPU), the model trains on it with every variable on
mps:0, and MPS computes what the CPU computes (the numerics check on the default model and on a Dense-ReLU MLP,
and the learning rate). No TensorFlow: the keras-torch stack has none."""

import os
import sys

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data.synthetic import make_regression
from {{ cookiecutter.package_name }}.runtime import backend, torch_devices
from {{ cookiecutter.package_name }}.runtime.numerics import first_batches
from {{ cookiecutter.package_name }}.runtime.torch_devices import MPS, assert_placement, variable_device
from {{ cookiecutter.package_name }}.runtime.torch_numerics import agreement, devices

from markers import MACHINE, metal_only

pytestmark = metal_only


@pytest.fixture(scope="module")
def torch():
    import torch as module

    return module


@pytest.fixture
def model(compose_config):
    from {{ cookiecutter.package_name }}.runtime.build import compile_model, recipe

    made = recipe(compose_config(), apple_silicon=True)
    with backend.keras().device(MPS.device):
        net = made.build_model()
        compile_model(net, made.make_optimizer(made.learning_rate), made.loss, jit_compile=False, on_metal=True)
    return net


def test_this_python_can_use_mps(torch):
    assert torch_devices.device_problem("metal", MACHINE) is None
    found = torch_devices.facts(torch, os.environ)
    assert found.mps_available, torch_devices.mps_unavailable(MACHINE, found)
    assert torch_devices.resolve("auto", MACHINE, found, require_accelerator=True) == MPS
    assert not found.cpu_fallback, f"unset {torch_devices.FALLBACK_VARIABLE}: these tests prove MPS alone"


def test_keras_puts_new_tensors_on_mps_by_itself(torch):
    keras = backend.keras()
    assert keras.config.backend() == "torch"
    assert str(keras.ops.ones((2, 2)).device) == MPS.device


def test_model_variables_live_on_mps(model):
    for variable in model.trainable_variables:
        assert variable_device(variable) == MPS.device, f"{variable.path} is on {variable_device(variable)}"


def test_one_training_step_runs_on_mps(torch, model):
    x = np.random.default_rng(0).random((32, 10), dtype=np.float32)
    loss = model.train_on_batch(x, x.sum(axis=1, keepdims=True))
    assert np.isfinite(loss)
    assert assert_placement(torch, model, MPS) == MPS.device


@pytest.mark.parametrize("model_option", ["linear", "mlp"])
def test_mps_computes_what_the_cpu_computes(compose_config, model_option):
    from {{ cookiecutter.package_name }}.runtime.build import recipe

    cfg = compose_config(f"model={model_option}")
    x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
    result = agreement(
        recipe(cfg, apple_silicon=True), first_batches(x, y, cfg.trainer.batch_size), *devices(MPS.device)
    )
    assert result.passed, result.summary()
    assert result.lr_ratio[MPS.device] == pytest.approx(2.0, abs=0.1), "a step at 2*lr must move the weights 2x as far"
    assert "tensorflow" not in sys.modules, "the keras-torch stack must never import TensorFlow"
{%- else -%}
"""On an Apple Silicon Mac: TensorFlow sees the Metal GPU, the model trains on it, and the GPU computes what
the CPU computes (the numerics check on the default model and on a Dense-ReLU MLP, and the learning rate)."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data.synthetic import make_regression
from {{ cookiecutter.package_name }}.runtime.accelerator import (
    METAL,
    assert_placement,
    device_problem,
    installed_metal_plugins,
    is_metal,
    variable_device,
)
from {{ cookiecutter.package_name }}.runtime.numerics import first_batches
from {{ cookiecutter.package_name }}.runtime.stack import load_stack
from {{ cookiecutter.package_name }}.runtime.tensorflow_numerics import agreement

from markers import MACHINE, metal_only

pytestmark = metal_only
STACK = load_stack()
PLUGINS = installed_metal_plugins(STACK.metal_providers)


@pytest.fixture
def model(tf, compose_config):
    from {{ cookiecutter.package_name }}.runtime.build import compile_model, recipe

    made = recipe(compose_config(), apple_silicon=True)
    net = made.build_model()
    compile_model(net, made.make_optimizer(made.learning_rate), made.loss, jit_compile="auto", on_metal=True)
    return net


def test_this_python_can_use_metal():
    assert device_problem("metal", MACHINE, PLUGINS) is None
    assert [plugin.name for plugin in PLUGINS] == [STACK.metal_provider], "exactly the stack's Metal plug-in"


def test_a_gpu_is_visible(tf):
    assert tf.config.list_physical_devices("GPU"), f"TensorFlow sees no GPU: {STACK.metal_provider} did not load"


def test_the_gpu_is_the_metal_pluggable_device(tf):
    gpu = tf.config.list_physical_devices("GPU")[0]
    details = tf.config.experimental.get_device_details(gpu)
    assert is_metal(details, PLUGINS), f"GPU:0 is not the Metal device of {STACK.metal_provider}: {details}"


def test_model_variables_live_on_gpu0(model):
    for variable in model.trainable_variables:
        assert variable_device(variable).endswith("GPU:0"), f"{variable.name} is on {variable_device(variable)}"


def test_one_training_step_runs_on_the_gpu(tf, model):
    x = np.random.default_rng(0).random((32, 10), dtype=np.float32)
    loss = model.train_on_batch(x, x.sum(axis=1, keepdims=True))
    assert np.isfinite(loss)
    assert assert_placement(tf, model, METAL).endswith("GPU:0")


@pytest.mark.parametrize("model_option", ["linear", "mlp"])
def test_the_metal_gpu_computes_what_the_cpu_computes(tf, compose_config, model_option):
    from {{ cookiecutter.package_name }}.runtime.build import recipe

    cfg = compose_config(f"model={model_option}")
    x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
    result = agreement(
        tf, recipe(cfg, apple_silicon=True), first_batches(x, y, cfg.trainer.batch_size), "/CPU:0", "/GPU:0"
    )
    assert result.passed, result.summary()


def test_the_learning_rate_takes_effect_on_the_gpu(tf, compose_config):
    from {{ cookiecutter.package_name }}.runtime.build import recipe

    cfg = compose_config("model=mlp")
    x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
    result = agreement(
        tf, recipe(cfg, apple_silicon=True), first_batches(x, y, cfg.trainer.batch_size), "/CPU:0", "/GPU:0"
    )
    assert result.lr_ratio["/GPU:0"] == pytest.approx(2.0, abs=0.1), "a step at 2*lr must move the weights 2x as far"
{%- endif %}
