{%- set on_torch = cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" -%}
"""The numerics check for real: the CPU against a second CPU must agree, and faults injected into the target
side (an ignored learning rate, a perturbed activation, weights that drift after a step) must be caught and
named. No fakes: {% if on_torch %}PyTorch{% else %}TensorFlow{% endif %} runs every step."""

import dataclasses
{%- if on_torch %}
import sys
{%- endif %}

import pytest

from {{ cookiecutter.package_name }}.conf.schema import ConfigError
from {{ cookiecutter.package_name }}.data.synthetic import make_regression
from {{ cookiecutter.package_name }}.runtime import backend, numerics{% if on_torch %}, torch_numerics{% else %}, tensorflow_numerics{% endif %}
from {{ cookiecutter.package_name }}.runtime.datasets import DataSpec
from {{ cookiecutter.package_name }}.train import train
{% if on_torch %}
# torch has no second logical CPU: on a CPU-only machine both copies run on the CPU, told apart in the record
REFERENCE, TARGET = torch_numerics.devices("cpu")
TARGET_LABEL = f"{TARGET} (second copy)"


@pytest.fixture
def check():
    """The keras-torch stack's check, the CPU against itself: (recipe, batches, target_recipe) -> Agreement."""

    def _check(recipe, batches, target_recipe=None):
        return torch_numerics.agreement(recipe, batches, REFERENCE, TARGET, target_recipe)

    return _check
{% else %}
REFERENCE, TARGET = "/CPU:0", "/CPU:1"
TARGET_LABEL = TARGET


@pytest.fixture
def check(tf):
    """TensorFlow's check, the CPU against a second logical CPU: (recipe, batches, target_recipe) -> Agreement."""

    def _check(recipe, batches, target_recipe=None):
        return tensorflow_numerics.agreement(tf, recipe, batches, REFERENCE, TARGET, target_recipe)

    return _check
{% endif %}

@pytest.fixture
def setup(check, compose_config):
    """(recipe, batches) for a config, as train builds them (after `check`: TensorFlow splits its CPU first)."""
    from {{ cookiecutter.package_name }}.runtime import build as models

    def _setup(*overrides):
        cfg = compose_config(*overrides)
        x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
        return models.recipe(cfg, apple_silicon=False), numerics.first_batches(x, y, cfg.trainer.batch_size)

    return _setup


def ignoring_the_learning_rate(recipe):
    """The recipe with an optimizer that always steps at the configured lr, as Metal has (keras#21668)."""
    return dataclasses.replace(recipe, make_optimizer=lambda _lr: recipe.make_optimizer(recipe.learning_rate))


@pytest.mark.parametrize("overrides", [(), ("model=mlp",), ("model=mlp", "optimizer=sgd")])
def test_two_cpus_agree(check, setup, overrides):
    recipe, batches = setup(*overrides)
    result = check(recipe, batches)
    assert result.passed, result.summary()
    assert result.largest.within_tolerance and result.largest.tensor
    assert result.lr_ratio == {REFERENCE: pytest.approx(2.0, abs=0.01), TARGET_LABEL: pytest.approx(2.0, abs=0.01)}
    record = result.record()
    assert record["ran"] and record["passed"] and record["tolerance"] == {"rtol": numerics.RTOL, "atol": numerics.ATOL}
    assert set(record["largest_difference"]) >= {"tensor", "abs_diff", "rel_diff"}
    assert "no accelerator here" in record["note"]  # the record says there was no second device


def test_an_ignored_learning_rate_is_caught(check, setup):
    recipe, batches = setup("model=mlp")
    result = check(recipe, batches, ignoring_the_learning_rate(recipe))
    assert not result.passed
    assert result.lr_ratio[REFERENCE] == pytest.approx(2.0, abs=0.01)
    assert result.lr_ratio[TARGET_LABEL] == result.target_lr_ratio == pytest.approx(1.0, abs=0.01)
    assert "learning rate is not applied" in result.failures[0] and f"on {TARGET_LABEL} " in result.failures[0]


def test_a_perturbed_activation_is_caught_and_the_largest_difference_named(check, setup):
    from {{ cookiecutter.package_name }}.models import mlp

    keras = backend.keras()
    recipe, batches = setup("model=mlp")
    reference_model = recipe.build_model()
    widths = [layer.units for layer in reference_model.layers[:-1]]

    def perturbed():  # relu 1% off, as a wrong fused MatMul + BiasAdd + Relu kernel would be
        spec = DataSpec("synthetic", reference_model.input_shape[1:], "regression")
        return mlp.build(spec, hidden_units=widths, activation=lambda t: keras.activations.relu(t) * 1.01)

    result = check(recipe, batches, dataclasses.replace(recipe, build_model=perturbed))
    assert not result.passed
    assert result.largest.rel_diff > numerics.RTOL and not result.largest.within_tolerance
    assert result.failures[0] == result.largest.describe()  # the largest disagreement comes first
    assert any(failure.startswith("outputs differ by") for failure in result.failures)


def test_weights_that_drift_after_a_step_are_caught(check, setup):
    recipe, batches = setup()
    keras = backend.keras()
    n_features = recipe.build_model().input_shape[-1]

    class Drift(keras.constraints.Constraint):  # Keras applies a constraint right after every update
        def __call__(self, weights):
            return weights * 1.001

    def drifting():  # the same Dense(1), but every update is followed by a 0.1% drift of the kernel
        return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(1, kernel_constraint=Drift())])

    result = check(recipe, batches, dataclasses.replace(recipe, build_model=drifting))
    assert not result.passed
    assert result.largest.tensor.startswith("update of") and "kernel" in result.largest.tensor
    assert not any(failure.startswith("outputs") for failure in result.failures)  # the forward pass still agrees


def test_the_setting_auto_is_on_for_accelerators_only():
    assert [numerics.wanted("auto", name) for name in ("metal", "cuda", "cpu")] == [True, True, False]
    assert numerics.wanted("true", "cpu") and not numerics.wanted("false", "metal")
    assert numerics.parse_setting(True) == "true" and numerics.parse_setting("AUTO") == "auto"
    with pytest.raises(ValueError, match="not one of auto, true, false"):
        numerics.parse_setting("sometimes")


def test_a_bad_setting_is_refused_before_tensorflow(compose_config, tmp_path):
    with pytest.raises(ConfigError, match="device.check_numerics=sometimes must be one of auto, true, false"):
        train(compose_config("device.check_numerics=sometimes"), tmp_path)


def test_training_with_the_check_on_records_it(check, compose_config, tmp_path):
    metrics = train(
        compose_config("device=cpu", "device.check_numerics=true", "trainer.epochs=1", "trainer.verbose=0"), tmp_path
    )
    record = metrics["numerics"]
    assert record["ran"] and record["passed"] and (record["reference"], record["target"]) == (REFERENCE, TARGET)
    assert (
        record["largest_difference"]["abs_diff"]
        <= numerics.ATOL + numerics.RTOL * record["largest_difference"]["scale"]
    )
    assert record["seconds"] > 0 and "no accelerator here" in record["note"]


def test_a_disagreeing_device_stops_training_with_one_line(check, compose_config, tmp_path, monkeypatch):
    real_compare = numerics.compare_devices

    def with_fault(run_copy, recipe, weights, batches, devices, target_recipe=None, **options):
        return real_compare(run_copy, recipe, weights, batches, devices, ignoring_the_learning_rate(recipe), **options)

    monkeypatch.setattr(numerics, "compare_devices", with_fault)
    with pytest.raises(numerics.NumericsError) as caught:
        train(compose_config("device=cpu", "device.check_numerics=true", "trainer.verbose=0"), tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f"numerics: cpu {TARGET} disagrees with {REFERENCE}: a step at 2*lr moved the weights 1.00x as far as a step "
        f"at lr on {TARGET_LABEL} "
    )
    assert "Known for the {{ cookiecutter.tensorflow_stack }} stack:" in message
    assert "device=cpu" in message and "device.check_numerics=false" in message and "tensorflow_stack=" in message
    assert not (tmp_path / "model.keras").exists() and not (tmp_path / "metrics.json").exists()
{%- if on_torch %}


def test_the_check_steps_as_keras_fit_steps(setup):
    """The check's steps are the steps of Keras's own torch trainer (model.train_on_batch), from the same weights
    on the same batches: the check tests what training runs, not a loop of its own."""
    import torch

    recipe, batches = setup("model=mlp")
    keras = backend.keras()
    with keras.device(REFERENCE):
        model = recipe.build_model()
        weights = model.get_weights()
        before = [variable.numpy() for variable in model.trainable_variables]
        model.compile(optimizer=recipe.make_optimizer(recipe.learning_rate), loss=recipe.loss, jit_compile=False)
        for x, y in batches[: numerics.STEPS]:
            model.train_on_batch(x, y)
    fitted = [(v.path, v.numpy() - start) for v, start in zip(model.trainable_variables, before, strict=True)]
    copy = torch_numerics.run(keras, torch, recipe, weights, batches, REFERENCE, recipe.learning_rate, numerics.STEPS)
    assert len(copy["updates"]) == len(fitted)
    for (name, update), (_, by_fit) in zip(copy["updates"], fitted, strict=True):
        assert numerics.compare(name, by_fit, update).within_tolerance, name
        assert abs(update).max() > 0, f"{name} did not move"


def test_tensorfloat32_is_off_during_the_check_and_restored():
    import torch

    flags = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = [flag.allow_tf32 for flag in flags]
    try:
        for flag in flags:
            flag.allow_tf32 = True
        with pytest.raises(ZeroDivisionError), torch_numerics.float32_matmuls(torch):
            assert [flag.allow_tf32 for flag in flags] == [False, False]
            raise ZeroDivisionError  # a check that fails half-way still gives training its settings back
        assert [flag.allow_tf32 for flag in flags] == [True, True]
    finally:
        for flag, value in zip(flags, saved, strict=True):
            flag.allow_tf32 = value


def test_the_reference_is_the_cpu_for_every_target():
    assert [torch_numerics.devices(device) for device in ("mps:0", "cuda:0", "cpu")] == [
        ("cpu", "mps:0"),
        ("cpu", "cuda:0"),
        ("cpu", "cpu"),
    ]


def test_the_check_runs_without_tensorflow(check, setup):
    recipe, batches = setup()
    assert check(recipe, batches).passed
    assert "tensorflow" not in sys.modules, "the keras-torch stack must never import TensorFlow"


def cuda_visible() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif("not cuda_visible()", reason="needs a CUDA GPU that torch sees; this machine has none")
@pytest.mark.parametrize("model_option", ["linear", "mlp"])
def test_a_cuda_gpu_computes_what_the_cpu_computes(setup, model_option):
    recipe, batches = setup(f"model={model_option}")
    result = torch_numerics.agreement(recipe, batches, *torch_numerics.devices("cuda:0"))
    assert result.passed, result.summary()
    assert "note" not in result.record()
{%- endif %}
