"""The model group: entries are `_target_` callables; shapes and outputs follow the data; an entry that
cannot be imported, is not callable, returns no Keras model, or whose output does not fit the task is refused."""

import textwrap

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.runtime.build import (
    ModelError,
    build,
    check_fits,
    metrics_for,
    recipe,
)
from {{ cookiecutter.package_name }}.runtime.datasets import DataSpec
from {{ cookiecutter.package_name }}.runtime.preprocessing import statistics

ROWS = DataSpec("csv", (10,), "regression")
CLASSES = DataSpec("csv", (4,), "classification", ("a", "b", "c"))
IMAGES = DataSpec("images", (16, 16, 3), "classification", ("cat", "dog"))
pytestmark = pytest.mark.usefixtures("tf")  # TensorFlow first imported by the fixture (conftest.py)

USER_MODELS = textwrap.dedent(
    """
    {% if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}import keras{% else %}from tensorflow import keras{% endif %}

    NOT_CALLABLE = 3

    def a_dict(spec):
        return {"spec": spec}

    def three_outputs(spec):
        return keras.Sequential([keras.Input(shape=spec.input_shape), keras.layers.Dense(3)])

    def logits(spec):
        return keras.Sequential([keras.Input(shape=spec.input_shape), keras.layers.Dense(spec.n_outputs)])

    def softmax_regression(spec):
        inputs = keras.Input(shape=spec.input_shape)
        return keras.Model(inputs, keras.layers.Dense(1, activation="softmax")(inputs))
    """
)


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    (tmp_path / "user_models_under_test.py").write_text(USER_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "user_models_under_test"


def test_cnn_on_rows_of_numbers_is_refused(compose_config):
    with pytest.raises(ModelError, match="model=cnn needs images \\(data=images\\), but data=csv gives rows of 10"):
        build(compose_config("model=cnn").model, ROWS)


def test_linear_is_exactly_the_seeds_dense_1(compose_config):
    model = build(compose_config().model, ROWS)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"]
    assert model.output_shape == (None, 1) and model.count_params() == 11


def test_linear_with_hidden_units_is_the_mlp_as_before(compose_config):
    model = build(compose_config("model.hidden_units=[8]").model, ROWS)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense"] and model.count_params() == 97


@pytest.mark.parametrize("name", ["linear", "mlp", "cnn"])
def test_every_model_takes_images_and_gives_one_output_per_class(compose_config, name):
    model = build(compose_config(f"model={name}").model, IMAGES)
    assert model.input_shape == (None, 16, 16, 3) and model.output_shape == (None, 2)
    assert type(model.layers[1]).__name__ == "Rescaling", "the project rescales pixels in front of the user's model"


def test_an_entry_that_cannot_be_imported_is_refused_before_tensorflow(compose_config):
    cfg = compose_config("model._target_=no_such_package.models.build").model
    with pytest.raises(ModelError, match="_target_ no_such_package.models.build cannot be imported: no module"):
        check_fits(cfg)  # finds the module without importing it: no TensorFlow needed


@pytest.mark.parametrize(
    ("callable_name", "message"),
    [
        ("missing", "cannot be imported: 'user_models_under_test' has no attribute 'missing'"),
        ("NOT_CALLABLE", "is a int, not a callable"),
        ("a_dict", "returned a dict, not a Keras model"),
        ("three_outputs", r"gives outputs of shape \(3,\) per example; the data's regression needs \(1,\)"),
    ],
)
def test_entries_that_do_not_make_a_fitting_model_are_refused(compose_config, user_models, callable_name, message):
    cfg = compose_config(f"model._target_={user_models}.{callable_name}").model
    with pytest.raises(ModelError, match=message) as refused:
        build(cfg, ROWS)
    assert f"_target_ {user_models}.{callable_name}" in str(refused.value) and "\n" not in str(refused.value)


# Keras 3 itself warns about the softmax over one unit that this test builds on purpose
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
def test_a_classifier_must_end_in_a_softmax_and_a_regression_must_not(compose_config, user_models):
    with pytest.raises(ModelError, match="must end in a softmax"):
        build(compose_config(f"model._target_={user_models}.logits").model, CLASSES)
    build(compose_config(f"model._target_={user_models}.logits").model, CLASSES, probabilities=False)  # own loss
    with pytest.raises(ModelError, match="outputs a constant 1"):
        build(compose_config(f"model._target_={user_models}.softmax_regression").model, ROWS)


def test_the_cnn_keeps_where_its_features_are(compose_config):
    # global average pooling keeps only which features occur, and sat at chance on 8x8 digits
    cnn = build(compose_config("model=cnn").model, IMAGES).layers[-1]  # the user's model, behind the Rescaling
    names = [type(layer).__name__ for layer in cnn.layers]
    assert "Flatten" in names and "GlobalAveragePooling2D" not in names
    pooled = build(compose_config("model=cnn", "model.head=global_average").model, IMAGES).layers[-1]
    assert "GlobalAveragePooling2D" in [type(layer).__name__ for layer in pooled.layers]


def test_the_preprocessing_takes_the_training_rows_statistics_and_wraps_the_model(compose_config):
    x = np.array([[1.0, 5.0], [3.0, 5.0], [100.0, 5.0]], np.float32)
    y = np.array([[10.0], [20.0], [1000.0]], np.float32)
    stats = statistics(x, y, np.array([0, 1]), "regression", normalize=True)  # row 2 is a validation row
    assert (stats.feature_mean, stats.feature_variance) == ((2.0, 5.0), (1.0, 1.0))  # a constant column: 1
    assert (stats.target_mean, stats.target_std) == (15.0, 5.0)
    assert statistics(x, y, np.array([0, 1]), "regression", normalize=False).active is False

    made = recipe(compose_config("model=mlp"), False, DataSpec("csv", (2,), "regression"), stats)
    first, second = made.build_model(), made.build_model()
    names = [layer.name for layer in first.layers]
    assert names[1] == "standardise_features" and names[-1] == "target_units"
    assert first.get_layer("target_units").get_config()["offset"] == 15.0
    second.set_weights(first.get_weights())  # the numerics check's copies: the same layers, the same weights
    assert first.predict(x, verbose=0) == pytest.approx(second.predict(x, verbose=0))


def test_loss_and_metrics_follow_the_task(compose_config):
    cfg = compose_config("model=mlp", "optimizer=sgd")
    regression, classification = recipe(cfg, False, ROWS), recipe(cfg, False, CLASSES)
    assert (regression.loss, metrics_for(cfg, ROWS)) == ("mse", ["mae"])
    assert (classification.loss, metrics_for(cfg, CLASSES)) == ("sparse_categorical_crossentropy", ["accuracy"])
    assert classification.build_model().output_shape == (None, 3)


def test_the_recipe_makes_fresh_models_and_optimizers(compose_config):
    made = recipe(compose_config("optimizer=sgd"), False, ROWS)
    first, second = made.build_model(), made.build_model()
    assert first is not second and getattr(first, "optimizer", None) is None
    optimizer = made.make_optimizer(0.5)
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.5) and made.learning_rate == 0.05
