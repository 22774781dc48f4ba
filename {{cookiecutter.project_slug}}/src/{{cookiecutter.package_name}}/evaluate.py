"""Evaluate a trained run: `python -m {{ cookiecutter.package_name }}.evaluate run_dir=DIR [data overrides]`.

By default on the run's own test split (data.test_split, rebuilt from model.json); with data overrides
(`data.path=other.csv`, `data=npz data.path=FILE`, Hydra's override syntax) on every row of that data.
Writes DIR/evaluation.json and DIR/confusion_matrix.png (classification) or DIR/predicted_vs_true.png
(regression), and prints the numbers as a table.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from .runtime import plots
from .runtime.datasets import DataError
from .runtime.rundir import RunDirError, arguments, load_run

EVALUATION = "evaluation.json"
CONFUSION_PNG = "confusion_matrix.png"
REGRESSION_PNG = "predicted_vs_true.png"
BATCH = 256
USAGE = f"usage: python -m {__package__}.evaluate run_dir=DIR [data=NAME] [data.KEY=VALUE ...]"


def classification_metrics(true: np.ndarray, predicted: np.ndarray, classes: list) -> dict:
    """Per-class precision, recall and F1 (0 where undefined), and the confusion matrix (rows: true classes)."""
    n = len(classes)
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (true, predicted), 1)
    hits = np.diag(matrix).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(hits / matrix.sum(axis=0))
        recall = np.nan_to_num(hits / matrix.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    per_class = {
        name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(classes, precision, recall, f1, matrix.sum(axis=1), strict=True)
    }
    return {"per_class": per_class, "confusion_matrix": matrix.tolist(), "classes": list(classes)}


def regression_metrics(true: np.ndarray, predicted: np.ndarray) -> dict:
    error = predicted - true
    spread = float(np.sum((true - true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(error**2)) / spread if spread > 0 else None
    return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error**2))), "r2": r2}


def evaluate(run_dir, overrides: list = ()) -> dict:
    """Score the run's model; writes evaluation.json and its plot into the run directory, returns the record."""
    run = load_run(run_dir)
    overrides = list(overrides)
    x, y = run.rows(overrides) if overrides else run.test_rows()
    split = "test"
    if overrides:
        split = str(run.data_config(overrides).get("path") or " ".join(overrides))
    if not len(x):
        raise RunDirError(f"{split}: no rows to evaluate.")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    model = run.load_model()
    metrics = {
        key: float(value) for key, value in model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True).items()
    }
    outputs = np.asarray(model.predict(x, batch_size=BATCH, verbose=0))
    title = f"{run.path.name}: {split} (n={len(x)})"
    if run.task == "classification":
        metrics |= classification_metrics(np.asarray(y).reshape(-1), outputs.argmax(axis=-1), run.classes)
        plot = run.path / CONFUSION_PNG
        plots.confusion_matrix(np.array(metrics["confusion_matrix"]), run.classes, title, plot)
    else:
        true, predicted = np.asarray(y, np.float64).reshape(-1), outputs.astype(np.float64).reshape(-1)
        metrics |= regression_metrics(true, predicted)
        plot = run.path / REGRESSION_PNG
        plots.predicted_against_true(true, predicted, title, plot)
    record = {"split": split, "n": int(len(x)), "task": run.task, "metrics": metrics, "plot": plot.name}
    (run.path / EVALUATION).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def table(record: dict) -> str:
    """The record as aligned text: the overall numbers, then one line per class."""
    metrics = record["metrics"]
    lines = [f"{record['split']}: {record['n']} rows"]
    lines += [f"  {key:<12} {value:.4f}" for key, value in metrics.items() if isinstance(value, float)]
    if "per_class" in metrics:
        width = max(len("class"), *(len(name) for name in metrics["per_class"]))
        lines.append(f"  {'class':<{width}}  precision  recall  f1      support")
        for name, row in metrics["per_class"].items():
            numbers = f"{row['precision']:<9.4f}  {row['recall']:<6.4f}  {row['f1']:<6.4f}  {row['support']}"
            lines.append(f"  {name:<{width}}  {numbers}")
    return "\n".join(lines)


def main(argv: list | None = None) -> int:
    try:
        given, overrides = arguments(sys.argv[1:] if argv is None else argv, ("run_dir",), USAGE)
        record = evaluate(given["run_dir"], overrides)
    except (RunDirError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(table(record))
    print(f"written: {Path(given['run_dir']) / EVALUATION}, {Path(given['run_dir']) / record['plot']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
