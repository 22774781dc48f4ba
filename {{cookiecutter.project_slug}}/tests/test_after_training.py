"""After training: the held-out test split, evaluate and predict on real short runs, in this process (the
runs are trained once per module), on the stack's backend (on keras-torch without TensorFlow); the commands'
one-line refusals, which need no framework, through the command line."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from {{ cookiecutter.package_name }} import evaluate, predict
from {{ cookiecutter.package_name }}.runtime import backend, build
from {{ cookiecutter.package_name }}.runtime.rundir import RunDirError, load_run
from {{ cookiecutter.package_name }}.train import train

pytestmark = pytest.mark.usefixtures("tf")
PROJECT = Path(__file__).resolve().parents[1]
QUICK = ("experiment=debug", "callbacks.tensorboard=false", "callbacks.checkpoint=false", "loss_curve=false")


def trained(run_dir: Path, *overrides: str) -> Path:
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="{{ cookiecutter.package_name }}.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=[*QUICK, *overrides])
    train(cfg, run_dir)
    return run_dir


def write_flowers(path: Path, rows: int, seed: int = 0, header=("x1", "x2", "x3", "species")) -> np.ndarray:
    features = np.random.default_rng(seed).normal(size=(rows, 3)).round(4)
    lines = [",".join(header)]
    for a, b, c in features:
        cells = {"x1": a, "x2": b, "x3": c, "species": "setosa" if a + b > 0 else "virginica", "id": f"r{len(lines)}"}
        lines.append(",".join(str(cells[name]) for name in header))
    path.write_text("\n".join(lines) + "\n")
    return features


@pytest.fixture(scope="module")
def classifier(tf, tmp_path_factory):
    folder = tmp_path_factory.mktemp("classifier")
    write_flowers(folder / "flowers.csv", 120)
    data = ("data=csv", f"data.path={folder / 'flowers.csv'}", "data.target=species", "model=mlp")
    return trained(folder / "run", *data)


@pytest.fixture(scope="module")
def regressor(tf, tmp_path_factory):
    folder = tmp_path_factory.mktemp("regressor")
    x = np.random.default_rng(1).random((200, 2))
    y = 100 + 30 * x[:, 0] - 10 * x[:, 1]
    lines = ["a,b,price"] + [f"{a:.5f},{b:.5f},{t:.4f}" for (a, b), t in zip(x, y, strict=True)]
    (folder / "prices.csv").write_text("\n".join(lines) + "\n")
    # 20 epochs of 5 steps at lr 0.05: Adam fits the plane from either backend's seeded start (at the default
    # 0.01 it did on TensorFlow's initial weights for seed 42, not on torch's: each backend draws its own)
    data = ("data=csv", f"data.path={folder / 'prices.csv'}", "data.target=price")
    data += ("trainer.epochs=20", "optimizer.learning_rate=0.05")
    return trained(folder / "run", *data)


def test_the_run_keeps_what_rebuilds_its_test_split(classifier):
    metrics = json.loads((classifier / "metrics.json").read_text())
    info = json.loads((classifier / "model.json").read_text())
    assert metrics["n_test"] == info["n_test"] == 12 and info["seed"] == 42
    assert info["features"] == ["x1", "x2", "x3"] and info["classes"] == ["setosa", "virginica"]
    x, y = load_run(classifier).test_rows()
    rows = {tuple(row) for row in np.loadtxt(info["data"]["path"], delimiter=",", skiprows=1, usecols=(0, 1, 2))}
    assert len(x) == 12 and {tuple(row) for row in x.astype(np.float64).round(4)} <= rows
    assert load_run(classifier).test_rows()[0].tolist() == x.tolist(), "the same rows every time"


def test_a_split_the_data_no_longer_gives_and_unknown_classes_are_refused(classifier, tmp_path):
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "model.keras").write_bytes((classifier / "model.keras").read_bytes())
    info = json.loads((classifier / "model.json").read_text())
    write_flowers(tmp_path / "grown.csv", 130)  # ten more rows than the run trained on
    info["data"]["path"] = str(tmp_path / "grown.csv")
    (copy / "model.json").write_text(json.dumps(info))
    with pytest.raises(RunDirError, match="no longer gives the split the run trained on .n_train 84 then, 91 now"):
        evaluate.evaluate(copy)
    (tmp_path / "odd.csv").write_text("x1,x2,x3,species\n1,2,3,setosa\n1,2,3,versicolor\n")
    with pytest.raises(RunDirError, match="has class 'versicolor', which the model does not know"):
        evaluate.evaluate(classifier, [f"data.path={tmp_path / 'odd.csv'}"])
    with pytest.raises(RunDirError, match="data.n_rows is not a key of the data entry .*data.csv.load"):
        evaluate.evaluate(classifier, ["data.n_rows=3"])


def test_evaluate_scores_the_test_split_of_a_classifier(classifier):
    record = evaluate.evaluate(classifier)
    assert record == json.loads((classifier / "evaluation.json").read_text())
    assert record["split"] == "test" and record["n"] == 12
    metrics = record["metrics"]
    matrix = np.array(metrics["confusion_matrix"])
    assert metrics["classes"] == ["setosa", "virginica"] and matrix.sum() == 12
    assert metrics["accuracy"] == pytest.approx(np.trace(matrix) / 12, abs=1e-6)
    assert set(metrics["per_class"]["setosa"]) == {"precision", "recall", "f1", "support"} and "loss" in metrics
    assert (classifier / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert "precision" in evaluate.table(record)


@pytest.mark.skipif(not backend.is_torch(), reason="keras-torch only: this stack runs Keras on TensorFlow")
def test_on_keras_torch_evaluate_and_predict_run_keras_on_torch_without_tensorflow(regressor, tmp_path):
    (tmp_path / "rows.csv").write_text("a,b\n0.5,0.5\n")
    evaluate.evaluate(regressor)
    predict.predict(regressor, tmp_path / "rows.csv")
    assert build.keras.config.backend() == "torch"
    assert "tensorflow" not in sys.modules, "nothing a keras-torch project runs imports TensorFlow"


def test_evaluate_takes_other_data_through_the_data_overrides(classifier, tmp_path):
    other = tmp_path / "other.csv"
    write_flowers(other, 30, seed=5, header=("species", "id", "x3", "x1", "x2"))  # other columns and order
    record = evaluate.evaluate(classifier, [f"data.path={other}"])
    assert record["split"] == str(other) and record["n"] == 30
    assert np.array(record["metrics"]["confusion_matrix"]).sum() == 30


def test_evaluate_a_regressor_in_the_targets_units(regressor):
    record = evaluate.evaluate(regressor)
    metrics = record["metrics"]
    assert record["n"] == 20 and {"loss", "mae", "rmse", "r2"} <= set(metrics)
    assert metrics["rmse"] ** 2 == pytest.approx(metrics["loss"], rel=1e-3) and metrics["rmse"] >= metrics["mae"]
    assert (regressor / "predicted_vs_true.png").exists() and "confusion_matrix" not in metrics
    # another data entry, through the data group: every row of a .npz file
    x = np.random.default_rng(4).random((15, 2)).astype(np.float32)
    np.savez(regressor / "more.npz", x=x, y=100 + 30 * x[:, 0] - 10 * x[:, 1])
    other = evaluate.evaluate(regressor, ["data=npz", f"data.path={regressor / 'more.npz'}"])
    assert (other["split"], other["n"]) == (str(regressor / "more.npz"), 15) and other["metrics"]["mae"] < 10


def test_predict_matches_columns_by_name_and_passes_the_others_through(classifier, tmp_path):
    new = tmp_path / "new.csv"
    features = write_flowers(new, 7, seed=3, header=("id", "x3", "species", "x1", "x2"))
    (classifier / "metrics.json").rename(classifier / "metrics.json.away")  # classes and features: model.json
    try:
        written = predict.predict(classifier, new)
    finally:
        (classifier / "metrics.json.away").rename(classifier / "metrics.json")
    assert written == classifier / "predictions_new.csv"
    with written.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "id",
        "x3",
        "species",
        "x1",
        "x2",
        "prediction",
        "probability_setosa",
        "probability_virginica",
    ]
    expected = build.keras.models.load_model(classifier / "model.keras").predict(features.astype(np.float32), verbose=0)
    probabilities = np.array([[float(row["probability_setosa"]), float(row["probability_virginica"])] for row in rows])
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert [row["prediction"] for row in rows] == [["setosa", "virginica"][i] for i in expected.argmax(axis=1)]
    assert predict.predict(classifier, new) == classifier / "predictions_new_2.csv", "never overwrites"
    with pytest.raises(RunDirError, match="exists; predict never overwrites"):
        predict.predict(classifier, new, output=str(written))


def test_predict_gives_a_regressions_values_in_the_targets_units(regressor, tmp_path):
    (tmp_path / "rows.csv").write_text("b,a\n0.5,0.5\n0.0,1.0\n")
    with predict.predict(regressor, tmp_path / "rows.csv", output=str(tmp_path / "out.csv")).open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["b", "a", "prediction"]
    assert [float(row["prediction"]) for row in rows] == pytest.approx([110, 130], abs=8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x1,x3,id\n1,2,a\n", "has no column 'x2'; the model takes: x1, x2, x3"),
        ("x1,x2,x3\n1,2,3\n1,two,3\n", "column 'x2' has a non-numeric value 'two' on line 3"),
        ("x1,x2,x3\n1,,3\n", "column 'x2' has a missing value on line 2"),
        ("x1,x2,x3\n", "has a header but no rows to predict"),
        ("", "is empty"),
    ],
)
def test_predict_refuses_bad_input_in_one_line(classifier, tmp_path, capsys, text, message):
    (tmp_path / "in.csv").write_text(text)
    assert predict.main([f"run_dir={classifier}", f"input={tmp_path / 'in.csv'}"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {tmp_path / 'in.csv'}") and message in line
    assert not list(tmp_path.glob("predictions*")) and len(list(classifier.glob("predictions_in*"))) == 0


def test_the_commands_refuse_a_run_dir_without_a_model_in_one_line(tmp_path, capsys):
    message = f"error: {tmp_path} holds no model.keras: run_dir must be the directory of a finished training run.\n"
    assert predict.main([f"run_dir={tmp_path}", "input=rows.csv"]) == 1 and capsys.readouterr().err == message
    assert predict.main([f"run_dir={tmp_path}"]) == 1 and "input=FILE_OR_DIR is missing" in capsys.readouterr().err
    assert evaluate.main([f"run_dir={tmp_path}", "seed=3"]) == 1
    assert capsys.readouterr().err.startswith("error: 'seed' is not an argument: give run_dir and data overrides")
    # the command line itself, once: its exit status and its one line (no TensorFlow is loaded to refuse)
    done = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}.evaluate", f"run_dir={tmp_path}"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", message)
