"""A finished run, as evaluate.py, predict.py and export read it: its model, what the model takes and gives,
and its data rebuilt with the split it trained on.

Training writes `model.json` beside `model.keras` (`write_model_info`): the task, the class names in the
order of the model's outputs, the feature columns in the order of its inputs (a table's), the input shape,
the data config and the seed the split was drawn with, and how many rows each part of the split holds. The
split is a pure function of the data, that config and the seed (datasets.split_rows), so `Run.test_rows()`
rebuilds the test rows, and refuses when the data no longer gives the same split. No TensorFlow is imported
here until pixels are decoded or the model is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from . import datasets
from .artifacts import MODEL, MODEL_INFO

FORMAT = 1


class RunDirError(ValueError):
    """The run directory (or the data asked of it) cannot be used; the message says why in one line."""


def write_model_info(run_dir: Path, prepared: datasets.Prepared, data_cfg, seed: int) -> dict:
    """model.json: what model.keras takes and gives, and what rebuilds its split."""
    spec = prepared.spec
    data = OmegaConf.to_container(data_cfg, resolve=True)
    if isinstance(data.get("path"), str) and data["path"]:
        data["path"] = str(Path(data["path"]).expanduser().resolve())  # evaluate may run from another folder
    info = {
        "format": FORMAT,
        "task": spec.task,
        "classes": list(spec.class_names),
        "features": list(spec.feature_names),
        "target": spec.target_name,
        "input_shape": list(spec.input_shape),
        "data_kind": spec.kind,
        "data": data,
        "seed": seed,
        "n_train": prepared.n_train,
        "n_validation": prepared.n_validation,
        "n_test": prepared.n_test,
    }
    (Path(run_dir) / MODEL_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


@dataclass(frozen=True)
class Run:
    """A run directory holding model.keras and model.json."""

    path: Path
    info: dict

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def task(self) -> str:
        return self.info["task"]

    @property
    def classes(self) -> list:
        return self.info["classes"]

    @property
    def features(self) -> list:
        return self.info["features"]

    @property
    def input_shape(self) -> tuple:
        return tuple(self.info["input_shape"])

    @property
    def is_images(self) -> bool:
        return self.info["data_kind"] == "images"

    def load_model(self):
        from .build import keras

        return keras.models.load_model(self.model_path)

    def model_inputs(self, x: np.ndarray) -> np.ndarray:
        """What model.keras takes for these rows: the rows themselves, or an image folder's files decoded."""
        if self.is_images:
            from .pipelines import load_images

            return load_images(x, self.input_shape)
        return x

    def test_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the run's own test split, rebuilt from model.json's data config and seed."""
        prepared = datasets.prepare(OmegaConf.create(self.info["data"]), self.info["seed"])
        parts = {"n_train": prepared.n_train, "n_validation": prepared.n_validation, "n_test": prepared.n_test}
        changed = [f"{key} {self.info[key]} then, {now} now" for key, now in parts.items() if self.info[key] != now]
        if changed:
            raise RunDirError(
                f"{self.path}: the data no longer gives the split the run trained on ({'; '.join(changed)}): "
                f"has {self.info['data'].get('path') or 'the data'} changed?"
            )
        if not prepared.n_test:
            raise RunDirError(
                f"{self.path}: the run held out no test rows (data.test_split=0); evaluate other data instead, "
                "e.g. data.path=FILE."
            )
        x, y = prepared.rows(prepared.test_index)
        return self.model_inputs(x), y

    def data_config(self, overrides: list):
        """The run's data config with data overrides (data=NAME, data.KEY=VALUE), taking every row: no split."""
        choice = [item.partition("=")[2] for item in overrides if item.startswith("data=")]
        if choice:
            from hydra import compose, initialize_config_module

            with initialize_config_module(config_module=f"{__package__.rpartition('.')[0]}.conf", version_base="1.3"):
                data = compose(config_name="train", overrides=[f"data={choice[-1]}"]).data
            data = OmegaConf.create(OmegaConf.to_container(data))
        else:
            data = OmegaConf.create(self.info["data"])
        dotted = [item[len("data.") :] for item in overrides if item.startswith("data.")]
        unknown = [item.partition("=")[0] for item in dotted if item.partition("=")[0].split(".")[0] not in data]
        if unknown:
            raise RunDirError(
                f"data.{unknown[0]} is not a key of the data entry ({data.get('_target_')}); choose another entry "
                "with data=NAME, e.g. data=csv data.path=FILE data.target=COLUMN."
            )
        try:
            data = OmegaConf.merge(data, OmegaConf.from_dotlist(dotted))
        except Exception as error:  # OmegaConf's grammar errors come in several types
            raise RunDirError(f"cannot read the overrides {' '.join(overrides)}: {error}") from None
        data.validation_split, data.test_split = 0.0, 0.0
        if "task" in data:
            data.task = self.task  # a file with few distinct labels must not turn a classifier's data into numbers
        if self.features and "features" in data and not any(item.startswith("data.features=") for item in dotted):
            data.features = list(self.features)  # the model's columns, in its order, wherever they are in the file
        return data

    def rows(self, overrides: list) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of every row of the data the overrides name, its labels numbered as the model's classes."""
        prepared = datasets.prepare(self.data_config(overrides), self.info["seed"])
        shape = tuple(prepared.spec.input_shape)
        if shape != self.input_shape:
            raise RunDirError(f"the data gives inputs of shape {shape}; the model takes {self.input_shape}.")
        if prepared.spec.task != self.task:
            raise RunDirError(f"the data is {prepared.spec.task}; the model was trained for {self.task}.")
        x, y = prepared.rows(prepared.train_index)
        if self.task == "classification":
            unknown = [name for name in prepared.spec.class_names if name not in self.classes]
            if unknown:
                raise RunDirError(
                    f"the data has class {unknown[0]!r}, which the model does not know (its classes: "
                    f"{', '.join(self.classes)})."
                )
            numbers = np.array([self.classes.index(name) for name in prepared.spec.class_names], dtype=np.int32)
            y = numbers[y]
        return self.model_inputs(x), y


def arguments(argv: list, known: tuple, usage: str) -> tuple[dict, list]:
    """A command's `key=value` arguments (Hydra's override syntax): {key: value} of the `known` keys (run_dir,
    input, ...), and the data overrides (data=NAME, data.KEY=VALUE); anything else refused in one line."""
    given, overrides = {}, []
    for item in argv:
        key, equals, value = item.partition("=")
        if not equals:
            raise RunDirError(f"{item!r} is no key=value argument. {usage}")
        if key in known:
            given[key] = value
        elif key == "data" or key.startswith(("data.", "+data.")):
            overrides.append(item.lstrip("+"))
        else:
            raise RunDirError(f"{key!r} is not an argument: give {', '.join(known)} and data overrides.")
    if not given.get("run_dir"):
        raise RunDirError(f"run_dir=DIR is missing. {usage}")
    return given, overrides


def load_run(run_dir) -> Run:
    """The run in run_dir; refused in one line when it holds no trained model or no model.json."""
    path = Path(str(run_dir)).expanduser()
    if not (path / MODEL).is_file():
        raise RunDirError(f"{path} holds no {MODEL}: run_dir must be the directory of a finished training run.")
    info_file = path / MODEL_INFO
    if not info_file.is_file():
        raise RunDirError(f"{path} holds no {MODEL_INFO} (what the model takes and gives): train it again.")
    info = json.loads(info_file.read_text(encoding="utf-8"))
    return Run(path, info)
