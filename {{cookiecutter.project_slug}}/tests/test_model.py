"""The model group: shapes and outputs follow the data, a model that does not fit it is refused."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data import DataSpec
from {{ cookiecutter.package_name }}.model import ModelError, build, check_fits, metrics_for, recipe
from {{ cookiecutter.package_name }}.preprocessing import statistics

ROWS = DataSpec("csv", (10,), "regression")
CLASSES = DataSpec("csv", (4,), "classification", ("a", "b", "c"))
IMAGES = DataSpec("images", (16, 16, 3), "classification", ("cat", "dog"))
pytestmark = pytest.mark.usefixtures("tf")  # TensorFlow first imported by the fixture (conftest.py)


def test_cnn_on_rows_of_numbers_is_refused(compose_config):
    with pytest.raises(ModelError, match="model=cnn needs images \\(data=images\\), but data=csv gives rows of 10"):
        check_fits(compose_config("model=cnn").model, ROWS)


def test_linear_is_exactly_the_seeds_dense_1(compose_config):
    model = build(compose_config().model, ROWS)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"]
    assert model.output_shape == (None, 1) and model.count_params() == 11


@pytest.mark.parametrize("name", ["linear", "mlp", "cnn"])
def test_every_model_takes_images_and_gives_one_output_per_class(compose_config, name):
    model = build(compose_config(f"model={name}").model, IMAGES)
    assert model.input_shape == (None, 16, 16, 3) and model.output_shape == (None, 2)


def test_the_cnn_keeps_where_its_features_are(compose_config):
    # global average pooling keeps only which features occur, and sat at chance on 8x8 digits
    names = [type(layer).__name__ for layer in build(compose_config("model=cnn").model, IMAGES).layers]
    assert "Flatten" in names and "GlobalAveragePooling2D" not in names
    pooled = build(compose_config("model=cnn", "model.head=global_average").model, IMAGES)
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
