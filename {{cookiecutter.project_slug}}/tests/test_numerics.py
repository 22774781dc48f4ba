"""The numerics check for real: the CPU against a second logical CPU must agree, and faults injected into
the target side (an ignored learning rate, a perturbed activation, weights that drift after a step) must
be caught and named. No fakes: TensorFlow runs every step."""

import dataclasses

import pytest

from {{ cookiecutter.package_name }}.conf.schema import ConfigError
from {{ cookiecutter.package_name }}.data.synthetic import make_regression
from {{ cookiecutter.package_name }}.runtime import numerics
from {{ cookiecutter.package_name }}.runtime.datasets import DataSpec
from {{ cookiecutter.package_name }}.train import train

REFERENCE, TARGET = "/CPU:0", "/CPU:1"


@pytest.fixture
def setup(tf, compose_config):
    """(recipe, batches) for a config, as train builds them."""
    from {{ cookiecutter.package_name }}.runtime import build as models

    def _setup(*overrides):
        cfg = compose_config(*overrides)
        x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
        return models.recipe(cfg, apple_silicon=False), numerics.first_batches(x, y, cfg.trainer.batch_size)

    return _setup


@pytest.mark.parametrize("overrides", [(), ("model=mlp",), ("model=mlp", "optimizer=sgd")])
def test_two_cpus_agree(tf, setup, overrides):
    recipe, batches = setup(*overrides)
    result = numerics.agreement(tf, recipe, batches, REFERENCE, TARGET)
    assert result.passed, result.summary()
    assert result.largest.within_tolerance and result.largest.tensor
    assert result.lr_ratio == {REFERENCE: pytest.approx(2.0, abs=0.01), TARGET: pytest.approx(2.0, abs=0.01)}
    record = result.record()
    assert record["ran"] and record["passed"] and record["tolerance"] == {"rtol": numerics.RTOL, "atol": numerics.ATOL}
    assert set(record["largest_difference"]) >= {"tensor", "abs_diff", "rel_diff"}


def test_an_ignored_learning_rate_is_caught(tf, setup):
    recipe, batches = setup("model=mlp")
    ignores_lr = dataclasses.replace(recipe, make_optimizer=lambda _lr: recipe.make_optimizer(recipe.learning_rate))
    result = numerics.agreement(tf, recipe, batches, REFERENCE, TARGET, target_recipe=ignores_lr)
    assert not result.passed
    assert result.lr_ratio[REFERENCE] == pytest.approx(2.0, abs=0.01)
    assert result.lr_ratio[TARGET] == pytest.approx(1.0, abs=0.01)
    assert "learning rate is not applied" in result.failures[0] and TARGET in result.failures[0]


def test_a_perturbed_activation_is_caught_and_the_largest_difference_named(tf, setup):
    from {{ cookiecutter.package_name }}.models import mlp

    recipe, batches = setup("model=mlp")
    reference_model = recipe.build_model()
    widths = [layer.units for layer in reference_model.layers[:-1]]

    def perturbed():  # relu 1% off, as a wrong fused MatMul + BiasAdd + Relu kernel would be
        spec = DataSpec("synthetic", reference_model.input_shape[1:], "regression")
        return mlp.build(spec, hidden_units=widths, activation=lambda t: tf.nn.relu(t) * 1.01)

    result = numerics.agreement(
        tf, recipe, batches, REFERENCE, TARGET, dataclasses.replace(recipe, build_model=perturbed)
    )
    assert not result.passed
    assert result.largest.rel_diff > numerics.RTOL and not result.largest.within_tolerance
    assert result.failures[0] == result.largest.describe()  # the largest disagreement comes first
    assert any(failure.startswith("outputs differ by") for failure in result.failures)


def test_weights_that_drift_after_a_step_are_caught(tf, setup):
    recipe, batches = setup()
    keras = tf.keras
    n_features = recipe.build_model().input_shape[-1]

    class Drift(keras.constraints.Constraint):  # Keras applies a constraint right after every update
        def __call__(self, weights):
            return weights * 1.001

    def drifting():  # the same Dense(1), but every update is followed by a 0.1% drift of the kernel
        return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(1, kernel_constraint=Drift())])

    result = numerics.agreement(
        tf, recipe, batches, REFERENCE, TARGET, dataclasses.replace(recipe, build_model=drifting)
    )
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


def test_training_with_the_check_on_records_it(tf, compose_config, tmp_path):
    metrics = train(
        compose_config("device=cpu", "device.check_numerics=true", "trainer.epochs=1", "trainer.verbose=0"), tmp_path
    )
    record = metrics["numerics"]
    assert record["ran"] and record["passed"] and (record["reference"], record["target"]) == (REFERENCE, TARGET)
    assert (
        record["largest_difference"]["abs_diff"]
        <= numerics.ATOL + numerics.RTOL * record["largest_difference"]["scale"]
    )
    assert record["seconds"] > 0


def test_a_disagreeing_device_stops_training_with_one_line(tf, compose_config, tmp_path, monkeypatch):
    real_agreement = numerics.agreement

    def with_fault(tf, recipe, batches, reference, target, target_recipe=None):
        ignores_lr = dataclasses.replace(recipe, make_optimizer=lambda _lr: recipe.make_optimizer(recipe.learning_rate))
        return real_agreement(tf, recipe, batches, reference, target, target_recipe=ignores_lr)

    monkeypatch.setattr(numerics, "agreement", with_fault)
    with pytest.raises(numerics.NumericsError) as caught:
        train(compose_config("device=cpu", "device.check_numerics=true", "trainer.verbose=0"), tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("numerics: cpu /CPU:1 disagrees with /CPU:0: a step at 2*lr moved the weights 1.00x")
    assert "Known for the {{ cookiecutter.tensorflow_stack }} stack:" in message
    assert "device=cpu" in message and "device.check_numerics=false" in message and "tensorflow_stack=" in message
    assert not (tmp_path / "model.keras").exists() and not (tmp_path / "metrics.json").exists()
