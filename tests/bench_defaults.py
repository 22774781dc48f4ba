"""Do the documented commands learn at their defaults? Each score beside a hand-written, properly scaled Keras
model of the same size, trained as long, on the same training and validation rows.

    uv run --no-project --python 3.11 --with-requirements tests/requirements.txt \
        python tests/bench_defaults.py PROJECT [CASE ...]

PROJECT is a bootstrapped project (its .venv runs the commands and the baselines); CASE is any of
linear-breast-cancer, mlp-diabetes-scaled, cnn-digits (default: all three). The data come from scikit-learn's
bundled sets (a dependency of the template's tests only) and are written into a temporary folder:

- linear-breast-cancer: the 569 x 30 breast cancer table as CSV, target `diagnosis` (0/1): features from
  0.001 to 2,500, so unscaled inputs cripple a linear model;
- mlp-diabetes-scaled: the 442 x 10 diabetes table, each feature multiplied by a fixed factor from 1e-3 to 1e4
  (FACTORS), and its raw target (25 to 346, mean 152), as CSV;
- cnn-digits: the 1,797 8x8 digits as grayscale PNGs in one folder per class, upscaled to 32x32.

The project runs `python -m PKG.train data=csv data.path=FILE data.target=COLUMN model=NAME` (or
`model=cnn data=images data.path=DIR`) and nothing else; its validation score is read from metrics.json. The
baseline, in the project's .venv, takes the same training and validation rows (the project's `split_rows`
with the data entry's validation and test splits; for images, the project's own split of the file list,
decoded as its pipelines decode them), standardises the features (and a regression
target) with the training rows' statistics (images: /255), and trains the same layers with the same
optimizer, learning rate, batch size and epochs. Accuracy for classification; R² = 1 - MSE / variance of the
validation targets for regression.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
from sklearn import datasets

FACTORS = np.array([1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 3e-3, 3e3])
CASES = {
    "linear-breast-cancer": {"model": "linear", "kind": "csv", "target": "diagnosis", "metric": "accuracy"},
    "mlp-diabetes-scaled": {"model": "mlp", "kind": "csv", "target": "progression", "metric": "r2"},
    "cnn-digits": {"model": "cnn", "kind": "images", "metric": "accuracy"},
}

# Run in the project's .venv: argv[1] is a JSON job. Prints the baseline's validation score.
BASELINE = r"""
import json, sys
import numpy as np
import yaml
job = json.loads(sys.argv[1])
conf = job["conf"]
import tensorflow as tf
keras = tf.keras
optimizer = yaml.safe_load(open(f"{conf}/optimizer/adam.yaml"))
trainer = yaml.safe_load(open(f"{conf}/trainer/default.yaml"))
model_cfg = yaml.safe_load(open(f"{conf}/model/{job['model']}.yaml"))
data_cfg = yaml.safe_load(open(f"{conf}/data/{job['kind']}.yaml"))
keras.utils.set_random_seed(job["seed"])
split = data_cfg["validation_split"]
import importlib
if job["kind"] == "csv":
    split_rows = importlib.import_module(job["package"] + ".runtime.datasets").split_rows
    table = np.genfromtxt(job["path"], delimiter=",", names=True)
    names = [n for n in table.dtype.names if n != job["target"]]
    x = np.stack([table[n] for n in names], axis=1).astype("float32")
    y = table[job["target"]].astype("float32")
    train, valid, _ = split_rows(len(x), split, data_cfg.get("test_split", 0.0), job["seed"])
    mean, std = x[train].mean(0), x[train].std(0)
    x = (x - mean) / std
    classify = job["metric"] == "accuracy"
    y_mean, y_std = (0.0, 1.0) if classify else (y[train].mean(), y[train].std())
    y_scaled = (y - y_mean) / y_std
    layers = [keras.Input((x.shape[1],))]
    layers += [keras.layers.Dense(w, activation=model_cfg["activation"]) for w in model_cfg["hidden_units"]]
    layers.append(keras.layers.Dense(2, activation="softmax") if classify else keras.layers.Dense(1))
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(optimizer["learning_rate"]),
                  "sparse_categorical_crossentropy" if classify else "mse")
    model.fit(x[train], y_scaled[train], epochs=trainer["epochs"], batch_size=trainer["batch_size"], verbose=0)
    predicted = model.predict(x[valid], verbose=0)
    if classify:
        score = float(np.mean(predicted.argmax(1) == y[valid]))
    else:
        predicted = predicted[:, 0] * y_std + y_mean
        score = 1 - float(np.mean((predicted - y[valid]) ** 2) / np.var(y[valid]))
else:
    load = importlib.import_module(job["package"] + ".data.images").load
    load_images = importlib.import_module(job["package"] + ".runtime.pipelines").load_images
    found = load(job["path"], image_size=data_cfg["image_size"], color_mode=data_cfg["color_mode"],
                 validation_split=split, test_split=data_cfg.get("test_split", 0.0), seed=job["seed"])
    def arrays(index):
        return load_images(found.x[index], found.spec.input_shape) / 255.0, found.y[index]
    (x_train, y_train), (x_valid, y_valid) = arrays(found.train_index), arrays(found.validation_index)
    layers = [keras.Input(x_train.shape[1:])]
    for filters in model_cfg["filters"]:
        layers += [keras.layers.Conv2D(filters, model_cfg["kernel_size"], padding="same", activation="relu"),
                   keras.layers.MaxPooling2D()]
    layers += [keras.layers.Flatten()]
    layers += [keras.layers.Dense(w, activation="relu") for w in model_cfg["hidden_units"]]
    layers.append(keras.layers.Dense(len(found.spec.class_names), activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(optimizer["learning_rate"]), "sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=trainer["epochs"], batch_size=trainer["batch_size"], verbose=0)
    score = float(np.mean(model.predict(x_valid, verbose=0).argmax(1) == y_valid))
print(json.dumps({"score": score}))
"""

# Run in the project's .venv (Pillow comes with matplotlib there): writes the digits as PNG class folders.
WRITE_PNGS = r"""
import sys
import numpy as np
from PIL import Image
images, labels, out = np.load(sys.argv[1])["images"], np.load(sys.argv[1])["labels"], sys.argv[2]
import pathlib
for i, (image, label) in enumerate(zip(images, labels)):
    folder = pathlib.Path(out) / str(label)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).resize((32, 32), Image.NEAREST).save(folder / f"{i:04d}.png")
"""


def write_data(case: str, folder: Path, python: Path) -> Path:
    if case == "linear-breast-cancer":
        bunch = datasets.load_breast_cancer()
        return write_csv(folder / "breast_cancer.csv", bunch.data, bunch.target.astype(int), "diagnosis")
    if case == "mlp-diabetes-scaled":
        bunch = datasets.load_diabetes(scaled=False)
        return write_csv(folder / "diabetes_scaled.csv", bunch.data * FACTORS, bunch.target, "progression")
    digits = datasets.load_digits()
    pixels = (digits.images * (255 / 16)).round().astype(np.uint8)
    np.savez(folder / "digits.npz", images=pixels, labels=digits.target)
    in_project(python, "-c", WRITE_PNGS, str(folder / "digits.npz"), str(folder / "digits"))
    return folder / "digits"


def write_csv(path: Path, x: np.ndarray, y: np.ndarray, target: str) -> Path:
    header = ",".join([f"f{j}" for j in range(x.shape[1])] + [target])
    rows = [",".join([f"{value:.6g}" for value in row] + [str(label)]) for row, label in zip(x, y, strict=True)]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run(project: Path, names: list) -> list:
    python = project / ".venv" / "bin" / "python"
    package = tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
    conf = project / "src" / package / "conf"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            case = CASES[name]
            data = write_data(name, Path(tmp), python)
            overrides = [f"model={case['model']}", f"data={case['kind']}", f"data.path={data}"]
            if case["kind"] == "csv":
                overrides.append(f"data.target={case['target']}")
            run_dir = Path(tmp) / f"run-{name}"
            started = time.perf_counter()
            in_project(python, "-m", f"{package}.train", *overrides, "trainer.verbose=0", f"hydra.run.dir={run_dir}")
            seconds = time.perf_counter() - started
            metrics = json.loads((run_dir / "metrics.json").read_text())
            job = {"conf": str(conf), "package": package, "model": case["model"], "kind": case["kind"]}
            job |= {"path": str(data), "target": case.get("target"), "metric": case["metric"], "seed": 42}
            baseline = json.loads(in_project(python, "-c", BASELINE, json.dumps(job)).splitlines()[-1])["score"]
            if case["metric"] == "r2":
                score = 1 - metrics["final_val_loss"] / target_variance(data, case["target"], package, python)
            else:
                score = metrics["final_val_accuracy"]
            rows.append((name, " ".join(overrides[:2]), case["metric"], score, baseline, seconds))
            print(f"{name}: {case['metric']} {score:.3f}, baseline {baseline:.3f}, difference {score - baseline:+.3f}")
    return rows


def in_project(python: Path, *args: str) -> str:
    """Run the project's Python; its stdout, or its stderr and exit on failure."""
    done = subprocess.run([python, *args], cwd=python.parents[2], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(map(str, args[:2]))} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def target_variance(path: Path, target: str, package: str, python: Path) -> float:
    """The variance of the validation rows' targets, the rows the project's `split_indices` holds out."""
    code = (
        "import sys, numpy as np; from importlib import import_module; "
        "t = np.genfromtxt(sys.argv[1], delimiter=',', names=True)[sys.argv[2]]; "
        "_, valid = import_module(sys.argv[3] + '.runtime.datasets').split_indices(len(t), 0.2, 42); "
        "print(np.var(t[valid]))"
    )
    return float(in_project(python, "-c", code, str(path), target, package))


def main() -> None:
    project = Path(sys.argv[1]).resolve()
    names = sys.argv[2:] or list(CASES)
    rows = run(project, names)
    print(f"\n{time.strftime('%Y-%m-%d')}, {project.name}\n")
    print("| case | command | metric | default | baseline | difference | train seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, command, metric, score, baseline, seconds in rows:
        cells = [name, f"`{command}`", metric, f"{score:.3f}", f"{baseline:.3f}", f"{score - baseline:+.3f}"]
        print("| " + " | ".join([*cells, f"{seconds:.0f}"]) + " |")


if __name__ == "__main__":
    main()
