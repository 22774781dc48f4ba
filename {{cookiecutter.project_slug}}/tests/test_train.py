"""Real, short training runs through the Hydra entry point, in this process (one TensorFlow import).

The command line's exit status and one-line error for device=metal are checked by running it
(see the template's tests); here the same refusal is checked on train() itself.
"""

import csv
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from {{ cookiecutter.package_name }} import evaluate, predict
from {{ cookiecutter.package_name }}.runtime import backend, plots
from {{ cookiecutter.package_name }}.runtime.accelerator import PlacementError
from {{ cookiecutter.package_name }}.runtime.datasets import DataError, prepare
from {{ cookiecutter.package_name }}.runtime.stack import Machine, this_machine
from {{ cookiecutter.package_name }}.train import RunError, main, train

from markers import not_on_apple_silicon, torch_only

# Every test here trains: on a TensorFlow stack the tf fixture imports TensorFlow first, with the CPU split in
# two (conftest.py); on keras-torch it is None and the `keras` fixture is Keras on PyTorch.
pytestmark = pytest.mark.usefixtures("tf")
DEBUG = ("experiment=debug",)
CLOCK_READINGS = ("wall_time_seconds", "epoch_seconds")


def run_cli(monkeypatch, *overrides):
    monkeypatch.setattr(sys, "argv", ["train", *overrides])
    main()


def refusal(monkeypatch, capsys, *overrides) -> str:
    """The one line the command prints when it refuses, after checking it exits 1."""
    with pytest.raises(SystemExit) as stopped:
        run_cli(monkeypatch, *overrides)
    assert stopped.value.code == 1
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith("error: ")
    return line


def metrics_of(run_dir):
    return json.loads((run_dir / "metrics.json").read_text())


def expected_device(tf):
    if this_machine().apple_silicon:
        return "metal"
    if backend.is_torch():
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return "cuda" if tf.config.list_physical_devices("GPU") else "cpu"


def test_training_writes_every_artifact(tf, keras, monkeypatch, tmp_path):
    run_cli(monkeypatch, "trainer.epochs=3", "trainer.verbose=0", f"hydra.run.dir={tmp_path}")

    metrics = metrics_of(tmp_path)
    assert metrics["device"] == expected_device(tf) and metrics["resumed_from_epoch"] == 0
    assert metrics["epochs"] == 3 and len(metrics["loss_history"]) == 3
    assert all(math.isfinite(value) for value in metrics["loss_history"])
    assert metrics["loss_history"][-1] < metrics["loss_history"][0]
    assert metrics["final_val_loss"] == metrics["history"]["val_loss"][-1] and "final_mae" in metrics
    assert metrics["versions"][backend.name()] and metrics["versions"]["keras"]
    assert metrics["n_test"] == 0, "data=synthetic holds out no test rows by default"

    with (tmp_path / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    assert [float(row["loss"]) for row in rows] == pytest.approx(metrics["loss_history"])
    assert (tmp_path / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if backend.is_torch():  # callbacks.tensorboard is TensorFlow's (tf.summary): off on keras-torch
        assert not (tmp_path / "tensorboard").exists()
    else:
        assert list((tmp_path / "tensorboard" / "train").glob("events.out.tfevents.*"))
    assert {p.name for p in (tmp_path / "checkpoints").iterdir()} == {"best.keras", "last.keras"}
    assert not (tmp_path / "backup").exists(), "a finished run drops its backup"
    if metrics["device"] == "cpu":  # device.check_numerics=auto: off on the CPU, which is the reference
        assert metrics["numerics"]["ran"] is False and "auto" in metrics["numerics"]["reason"]

    model = keras.models.load_model(tmp_path / "model.keras")
    last = keras.models.load_model(tmp_path / "checkpoints" / "last.keras")
    x = np.random.default_rng(0).random((4, 10), dtype=np.float32)
    kernel, bias = model.get_weights()
    assert model.predict(x, verbose=0) == pytest.approx(x @ kernel + bias, abs=1e-5)
    assert model.predict(x, verbose=0) == pytest.approx(last.predict(x, verbose=0), abs=1e-6)


def test_two_runs_with_the_same_seed_give_the_same_numbers(compose_config, tmp_path):
    numbers = []
    for name in ("one", "two"):
        metrics = train(compose_config(*DEBUG, "seed=7", "callbacks.tensorboard=false"), tmp_path / name)
        numbers.append({key: value for key, value in metrics.items() if key not in CLOCK_READINGS})
    assert numbers[0] == numbers[1]
    other = train(compose_config(*DEBUG, "seed=8", "callbacks.tensorboard=false"), tmp_path / "other")
    assert other["loss_history"] != numbers[0]["loss_history"]


def test_a_csv_classification_run_with_balanced_class_weights(keras, compose_config, monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(120, 3))
    labels = ["setosa" if a + b > 0.8 else "virginica" for a, b, _ in features]  # imbalanced: 1 in 4 setosa
    lines = ["x1,x2,x3,species"] + [
        f"{a:.4f},{b:.4f},{c:.4f},{label}" for (a, b, c), label in zip(features, labels, strict=True)
    ]
    (tmp_path / "flowers.csv").write_text("\n".join(lines) + "\n")
    data = ("data=csv", f"data.path={tmp_path / 'flowers.csv'}", "data.target=species", "trainer.class_weight=balanced")
    fit, given = keras.Model.fit, {}

    def spied_fit(model, *args, **kwargs):
        given.update(kwargs)
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spied_fit)
    metrics = train(compose_config(*DEBUG, *data, "model=mlp", "device.check_numerics=true"), tmp_path / "run")
    assert metrics["numerics"]["passed"], "the numerics check runs on CSV batches and the task's loss"
    assert metrics["task"] == "classification" and metrics["classes"] == ["setosa", "virginica"]
    assert 0.0 <= metrics["final_accuracy"] <= 1.0
    assert (metrics["n_train"], metrics["n_validation"], metrics["n_test"]) == (84, 24, 12)
    # balanced: n / (classes x count) over the 84 training rows (24 validation and 12 test rows come first)
    train_rows = np.sort(np.random.default_rng(42).permutation(120)[36:])
    setosa = sum(labels[i] == "setosa" for i in train_rows)
    expected = {"setosa": 84 / (2 * setosa), "virginica": 84 / (2 * (84 - setosa))}
    assert metrics["class_weight"] == pytest.approx(expected) and expected["setosa"] > 1.5
    assert given["class_weight"] == pytest.approx({0: expected["setosa"], 1: expected["virginica"]}), "fit weighs"
    with pytest.raises(DataError, match="class_weight=balanced weighs classes, but this data is regression"):
        train(compose_config("trainer.class_weight=balanced"), tmp_path / "regression")
    assert not (tmp_path / "regression").exists()


def test_a_table_model_takes_raw_rows_and_answers_in_the_targets_units(keras, compose_config, tmp_path):
    # features on scales from 1e-3 to 1e4 and a target near 150: data.normalize (on for csv) standardises both
    rng = np.random.default_rng(1)
    x = (rng.random((200, 3)) * [1e-3, 1.0, 1e4]).astype(np.float32)
    y = 150 + 40 * x[:, 0] / 1e-3 - 30 * x[:, 2] / 1e4 + rng.normal(0, 0.5, 200)
    lines = ["small,unit,large,price"] + [f"{a:.6g},{b:.6g},{c:.6g},{t:.4f}" for (a, b, c), t in zip(x, y, strict=True)]
    (tmp_path / "prices.csv").write_text("\n".join(lines) + "\n")
    data = ("data=csv", f"data.path={tmp_path / 'prices.csv'}", "data.target=price", "data.validation_split=0.5")
    # (a learning rate that converges in 20 epochs from either backend's initial weights)
    quick = ("trainer.epochs=20", "optimizer.learning_rate=0.05", "trainer.verbose=0", "callbacks.tensorboard=false")
    quick += ("loss_curve=false",)
    metrics = train(compose_config(*data, *quick, "device.check_numerics=true"), tmp_path / "run")
    assert metrics["numerics"]["passed"], "the numerics check builds the same wrapped model"

    model = keras.models.load_model(tmp_path / "run" / "model.keras")  # built-in layers: no custom objects
    predicted = model.predict(x, verbose=0)[:, 0]
    assert np.mean(np.abs(predicted - y)) < 0.1 * np.std(y), "raw rows in, the target's units out"
    assert metrics["final_val_mae"] < 0.1 * np.std(y), "loss and metrics are in the target's units"
    # the statistics come from the training rows alone
    train_rows = np.sort(np.random.default_rng(42).permutation(200)[120:])  # 100 validation, 20 test rows first
    mean = model.get_layer("standardise_features").get_config()["mean"]
    assert np.ravel(mean) == pytest.approx(x[train_rows].mean(axis=0), rel=1e-5)
    # the configured model inside learned the standardised target (std 1), not the raw one (std ~15)
    inner = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    standardised = (x - x[train_rows].mean(axis=0)) / x[train_rows].std(axis=0)
    assert 0.8 < float(np.std(inner.predict(standardised, verbose=0))) < 1.2


def test_an_image_folder_trains_the_cnn(compose_config, tmp_path):
    for label, value in (("dark", 20), ("light", 230)):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (10, 12), (value + i,) * 3).save(tmp_path / "images" / label / f"{i}.png")
    (tmp_path / "images" / "light" / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # skipped: never read
    data = ("data=images", f"data.path={tmp_path / 'images'}", "data.image_size=[16,16]", "data.skip_bad_files=true")
    metrics = train(compose_config(*DEBUG, *data, "model=cnn", "device.check_numerics=true"), tmp_path / "run")
    assert metrics["numerics"]["passed"], "the numerics check runs on image batches"
    assert metrics["classes"] == ["dark", "light"] and "final_val_accuracy" in metrics
    assert (metrics["n_train"], metrics["n_validation"], metrics["n_test"]) == (9, 2, 1)
    # after training: the test image scored, and a folder of images predicted file by file
    record = evaluate.evaluate(tmp_path / "run")
    assert record["n"] == 1 and np.array(record["metrics"]["confusion_matrix"]).sum() == 1
    with predict.predict(tmp_path / "run", tmp_path / "images" / "dark").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [Path(row["file"]).name for row in rows] == [f"{i}.png" for i in range(6)]
    assert {row["prediction"] for row in rows} <= {"dark", "light"} and "probability_light" in rows[0]


def test_an_npz_file_of_images_trains_the_cnn(compose_config, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 8, 8, 1), dtype=np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)
    np.savez(tmp_path / "pictures.npz", x=x, y=y)
    data = ("data=npz", f"data.path={tmp_path / 'pictures.npz'}", "callbacks.tensorboard=false")
    metrics = train(compose_config(*DEBUG, *data, "model=cnn"), tmp_path / "run")
    assert metrics["task"] == "classification" and metrics["classes"] == ["0", "1"]
    assert (metrics["n_train"], metrics["n_validation"], metrics["n_test"]) == (28, 8, 4)  # test_split 0.1
    assert "final_val_accuracy" in metrics


def test_bad_data_and_models_are_refused_in_one_line(monkeypatch, capsys, tmp_path):
    missing = tmp_path / "missing.csv"
    line = refusal(
        monkeypatch, capsys, "data=csv", f"data.path={missing}", "data.target=y", f"hydra.run.dir={tmp_path}"
    )
    assert line == f"error: {missing}: no such file (data.path)."
    line = refusal(monkeypatch, capsys, "model=cnn", f"hydra.run.dir={tmp_path}")
    assert line.startswith("error: model=cnn needs images (data=images)")
    assert not (tmp_path / "metrics.json").exists()


def test_a_nan_loss_stops_the_run_in_one_line_and_keeps_what_was_written(compose_config, tmp_path):
    # train() itself, not the command line: TerminateOnNaN's message goes through absl logging, which
    # would bind to a capsys stream that pytest closes after the test. main() prints any RunError as
    # the one `error:` line (test_bad_data_and_models_are_refused_in_one_line).
    with pytest.raises(RunError) as stopped:
        train(compose_config(*DEBUG, "optimizer=sgd", "optimizer.learning_rate=1e30"), tmp_path)
    message = str(stopped.value)
    assert re.match(r"the loss became NaN or infinite in epoch \d+ and TerminateOnNaN stopped the run;", message)
    assert "\n" not in message
    assert (tmp_path / "history.csv").exists() and not (tmp_path / "model.keras").exists()


def test_used_run_dirs_are_refused_without_resume_and_finished_ones_even_with_it(compose_config, tmp_path):
    (tmp_path / "model.keras").write_text("an earlier run's model")
    with pytest.raises(RunError, match="already holds model.keras; .*or pass resume=true"):
        train(compose_config(), tmp_path)
    assert (tmp_path / "model.keras").read_text() == "an earlier run's model"
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(RunError, match="holds a finished run"):
        train(compose_config("resume=true"), tmp_path)


def test_resume_on_a_fresh_run_dir_starts_the_run(compose_config, tmp_path):
    metrics = train(compose_config(*DEBUG, "resume=true", "callbacks.tensorboard=false"), tmp_path)
    assert metrics["resumed_from_epoch"] == 0 and len(metrics["loss_history"]) == 2


@not_on_apple_silicon
def test_device_metal_off_apple_silicon_stops_before_training(compose_config, tmp_path):
    # (TensorFlow: "device=metal needs an Apple Silicon Mac ..."; keras-torch: "... MPS, which needs an Apple ...")
    with pytest.raises(PlacementError, match="device=metal (needs|means the Apple GPU through MPS, which needs) an"):
        train(compose_config("device=metal"), tmp_path)
    assert not (tmp_path / "metrics.json").exists()


def test_early_stopping_saves_the_best_epoch_and_reports_its_numbers(keras, compose_config, tmp_path):
    # random targets and a large learning rate: the validation loss is best early, then worse
    cfg = compose_config(
        *DEBUG,
        "data.signal=none",
        "model=mlp",
        "optimizer.learning_rate=0.05",
        "trainer.epochs=40",  # a ceiling: early stopping ends the run (TensorFlow's within 12, torch's within 20)
        "callbacks.early_stopping=true",
        "callbacks.patience=3",
        "callbacks.reduce_lr_on_plateau=true",
        "callbacks.reduce_lr_patience=1",
        "callbacks.tensorboard=false",
    )
    metrics = train(cfg, tmp_path)
    val_loss = metrics["history"]["val_loss"]
    best = int(np.argmin(val_loss))
    assert metrics["best_epoch"] == best + 1 and best + 1 < metrics["epochs_run"], "the best epoch is not the last"
    assert metrics["final_val_loss"] == val_loss[best] and metrics["final_loss"] == metrics["history"]["loss"][best]
    prepared = prepare(cfg.data, cfg.seed)
    x, y = prepared.rows(prepared.validation_index)
    model = keras.models.load_model(tmp_path / "model.keras")
    saved = model.evaluate(x, y, batch_size=cfg.trainer.batch_size, verbose=0, return_dict=True)["loss"]
    assert saved == pytest.approx(val_loss[best], rel=1e-4), "model.keras holds the best epoch's weights"
    assert saved < val_loss[-1]
    # ReduceLROnPlateau (patience 1) cut the learning rate while the validation loss stalled
    assert float(np.asarray(model.optimizer.learning_rate)) < 0.05


def test_the_training_curves_have_a_panel_per_metric_and_a_log_loss_axis_over_two_decades(tmp_path):
    history = {
        "loss": [900.0, 30.0, 4.0],
        "mae": [20.0, 4.0, 1.5],
        "val_loss": [800.0, 40.0, 5.0],
        "val_mae": [1, 2, 3],
    }
    assert plots.training_curves(history, tmp_path / "wide.png") == {"loss": "log", "mae": "linear"}
    narrow = {"loss": [2.0, 1.0], "val_loss": [2.5, 1.5], "accuracy": [0.5, 0.7], "val_accuracy": [0.4, 0.6]}
    assert plots.training_curves(narrow, tmp_path / "narrow.png") == {"loss": "linear", "accuracy": "linear"}
    assert (tmp_path / "wide.png").read_bytes()[:4] == b"\x89PNG"


# The keras-torch stack: Keras on PyTorch, no TensorFlow anywhere in a run.
APPLE_SILICON = Machine("Darwin", "arm64", rosetta=False, macos_version="14.5")


@torch_only
def test_a_torch_run_imports_no_tensorflow_and_device_cpu_trains_on_the_cpu(
    keras, compose_config, monkeypatch, tmp_path
):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # any `import tensorflow` now raises ImportError
    metrics = train(compose_config("experiment=seed", "device=cpu"), tmp_path)  # the seed's script, unchanged
    assert metrics["epochs_run"] == 10 and metrics["n_train"] == 1000 and metrics["loss_history"][-1] < 0.2
    assert keras.config.backend() == "torch" and "tensorflow" not in metrics["versions"]
    assert metrics["versions"]["torch"] and metrics["device"] == "cpu"
    # keras.device("cpu") around build and fit: on a Mac too, where Keras alone would put it on MPS
    assert metrics["device_string"] == "cpu" and metrics["variable_device"] == "cpu"
    assert metrics["distribute"]["strategy"] == "none" and metrics["distribute"]["replicas"] == 1
    model = keras.models.load_model(tmp_path / "model.keras")
    assert {str(variable.value.device) for variable in model.weights} == {"cpu"}


@torch_only
@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ("distribute=mirrored", "tf.distribute, which mirrored and multi_worker train with, is TensorFlow's"),
        ("distribute=multi_worker", "tf.distribute, which mirrored and multi_worker train with, is TensorFlow's"),
        ("callbacks.tensorboard=true", "Keras's TensorBoard callback writes its logs with tf.summary"),
    ],
)
def test_what_is_tensorflows_is_refused_in_one_line_on_torch(monkeypatch, capsys, tmp_path, override, reason):
    line = refusal(monkeypatch, capsys, override, f"hydra.run.dir={tmp_path}")
    assert "on the keras-torch stack" in line and reason in line
    assert not tmp_path.exists() or not list(tmp_path.iterdir()), "refused before Hydra made the run directory"


@torch_only
def test_mps_with_torchs_cpu_fallback_is_refused_unless_allowed(compose_config, monkeypatch, tmp_path, caplog):
    from {{ cookiecutter.package_name }} import train as train_module
    from {{ cookiecutter.package_name }}.runtime import start_torch, torch_devices

    found = torch_devices.TorchFacts("2.15.0", mps_built=True, mps_available=True, cuda_devices=0, cpu_fallback=True)
    monkeypatch.setattr(train_module, "this_machine", lambda: APPLE_SILICON)
    monkeypatch.setattr(start_torch.torch_devices, "facts", lambda torch, environ: found)
    with pytest.raises(PlacementError) as refused:
        train(compose_config(*DEBUG, "device=metal"), tmp_path / "refused")
    message = str(refused.value)
    assert message.startswith("PYTORCH_ENABLE_MPS_FALLBACK=1 lets torch run the operations MPS lacks on the CPU")
    assert "device.allow_cpu_fallback=true" in message and "\n" not in message
    assert not (tmp_path / "refused" / "model.keras").exists()

    # allowed: the run goes on to MPS with a warning (this machine has no MPS, so building the model there fails)
    with caplog.at_level("WARNING"), pytest.raises(Exception) as stopped:  # noqa: PT011 - whatever torch raises
        train(compose_config(*DEBUG, "device=metal", "device.allow_cpu_fallback=true"), tmp_path / "allowed")
    assert "PYTORCH_ENABLE_MPS_FALLBACK=1 and device.allow_cpu_fallback=true" in caplog.text
    assert "lets torch run the operations MPS lacks" not in str(stopped.value)


@torch_only
def test_deterministic_on_torch_is_torchs_deterministic_algorithms():
    import torch

    from {{ cookiecutter.package_name }}.runtime.build import set_seed

    try:
        set_seed(3, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        first = torch.rand(3)
        set_seed(3, deterministic=False)
        assert torch.rand(3).tolist() == first.tolist(), "set_random_seed seeds torch"
    finally:
        torch.use_deterministic_algorithms(False)
