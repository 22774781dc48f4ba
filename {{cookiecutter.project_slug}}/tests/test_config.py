"""Every option of every config group composes into a config train() can use (no TensorFlow)."""

import ast
import sys
from importlib.resources import files

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.conf.schema import ConfigError
from {{ cookiecutter.package_name }}.runtime import backend
from {{ cookiecutter.package_name }}.runtime.build import ModelError
from {{ cookiecutter.package_name }}.runtime.datasets import DataError
from {{ cookiecutter.package_name }}.runtime.distribute import DistributeError
from {{ cookiecutter.package_name }}.train import RunError, train

PACKAGE = "{{ cookiecutter.package_name }}"
CONF = files(f"{PACKAGE}.conf")
GROUPS = {"model", "data", "optimizer", "trainer", "callbacks", "device", "distribute", "experiment"}
OPTIONS = [
    (group, entry.name.removesuffix(".yaml"))
    for group in sorted(GROUPS)
    for entry in sorted(CONF.joinpath(group).iterdir(), key=lambda e: e.name)
    if entry.name.endswith(".yaml")
]


def test_the_config_groups_are_the_documented_ones():
    assert {entry.name for entry in CONF.iterdir() if entry.is_dir() and not entry.name.startswith("_")} == GROUPS
    assert {"adam", "sgd"} <= {option for group, option in OPTIONS if group == "optimizer"}
    assert {"auto", "metal", "cuda", "cpu"} == {option for group, option in OPTIONS if group == "device"}
    assert {"synthetic", "csv", "images", "npz"} == {option for group, option in OPTIONS if group == "data"}
    assert {"linear", "mlp", "cnn"} == {option for group, option in OPTIONS if group == "model"}
    assert {"seed", "debug"} == {option for group, option in OPTIONS if group == "experiment"}
    assert {"none", "mirrored", "multi_worker"} == {option for group, option in OPTIONS if group == "distribute"}


def test_defaults(compose_config):
    cfg = compose_config()
    assert cfg.seed == 42
    assert cfg.device.name == "auto" and cfg.device.require_accelerator is True
    assert cfg.optimizer.name == "adam"
    assert (cfg.trainer.epochs, cfg.data.n_samples, cfg.data.n_features) == (10, 1000, 10)
    assert cfg.data._target_ == f"{PACKAGE}.data.synthetic.load"
    assert (cfg.model.name, cfg.model._target_) == ("linear", f"{PACKAGE}.models.linear.build")
    assert cfg.model.hidden_units == []  # model.hidden_units=[...] keeps working, as before the models/ modules
    assert cfg.resume is False and cfg.trainer.deterministic is False
    assert cfg.callbacks.backup_and_restore and cfg.callbacks.terminate_on_nan and not cfg.callbacks.early_stopping


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_every_option_composes(compose_config, group, option):
    cfg = compose_config(f"{group}={option}")
    OmegaConf.resolve(cfg)
    assert set(cfg) >= GROUPS - {"experiment"} | {"seed", "resume"}
    if group in ("device", "optimizer", "model", "distribute"):
        assert cfg[group].name == option
    if group in ("model", "data"):  # an entry's module is named after it: models/NAME.py, data/NAME.py
        assert cfg[group]._target_.rsplit(".", 2)[-2] == option


def test_the_seed_preset_is_exactly_the_seeds_script(compose_config):
    cfg = compose_config("experiment=seed")
    assert cfg.model._target_ == f"{PACKAGE}.models.linear.build"
    assert (cfg.data._target_.rsplit(".", 2)[-2], cfg.data.n_samples, cfg.data.n_features, cfg.data.signal) == (
        "synthetic",
        1000,
        10,
        "none",
    )
    assert (cfg.optimizer.name, cfg.optimizer.learning_rate) == ("adam", 0.001)  # Keras's default for "adam"
    assert (cfg.trainer.loss, list(cfg.trainer.metrics)) == ("mse", [])
    assert (cfg.trainer.epochs, cfg.trainer.batch_size) == (10, 32)
    assert cfg.data.validation_split == 0.0 and cfg.data.normalize is False  # raw inputs, no preprocessing
    # none of the work the seed does not do: checkpoints, backups, TensorBoard, the NaN check, the plot
    skipped = ("checkpoint", "backup_and_restore", "tensorboard", "terminate_on_nan")
    assert not any(cfg.callbacks[name] for name in skipped) and cfg.loss_curve is False
    assert cfg.callbacks.csv_logger  # history.csv is kept


def test_the_debug_preset_is_small(compose_config):
    cfg = compose_config("experiment=debug")
    assert cfg.trainer.epochs <= 2 and cfg.data.n_samples <= 256 and cfg.trainer.verbose == 0


def test_the_sweep_summary_is_a_hydra_callback():
    # exploded (trailing commas), so that the lines stay short whatever the package name
    with initialize_config_module(
        config_module="{{ cookiecutter.package_name }}.conf",
        version_base="1.3",
    ):
        cfg = compose(config_name="train", return_hydra_config=True)
    summary = "{{ cookiecutter.package_name }}.runtime.summary.SweepSummary"
    assert cfg.hydra.callbacks.summary._target_ == summary


def test_overrides_reach_the_config(compose_config):
    cfg = compose_config("trainer.epochs=3", "optimizer=sgd", "optimizer.learning_rate=0.1", "seed=7")
    assert (cfg.trainer.epochs, cfg.optimizer.name, cfg.optimizer.learning_rate, cfg.seed) == (3, "sgd", 0.1, 7)


def test_a_run_never_overwrites_earlier_artifacts(compose_config, tmp_path):
    (tmp_path / "model.keras").write_text("an earlier run's model")
    with pytest.raises(RunError, match="already holds model.keras"):
        train(compose_config(), tmp_path)
    assert (tmp_path / "model.keras").read_text() == "an earlier run's model"


# tf.distribute is TensorFlow's: the keras-torch stack refuses every strategy but none, by the schema
DISTRIBUTE_REFUSALS = (
    [
        (("distribute=multi_worker",), ConfigError, "distribute.name=multi_worker must be none on the keras-torch"),
        (("distribute.name=ring",), ConfigError, "distribute.name=ring must be none on the keras-torch stack: tf."),
    ]
    if backend.is_torch()
    else [
        (("distribute=multi_worker",), DistributeError, "needs the cluster"),
        (("distribute.name=ring",), ConfigError, "distribute.name=ring must be one of none, mirrored, multi_worker"),
    ]
)


@pytest.mark.parametrize(
    ("overrides", "refused", "message"),
    [
        (("data=csv", "data.path={table}", "data.target=price"), DataError, "has no column 'price'"),
        (("model._target_=no_such_module.build",), ModelError, "_target_ no_such_module.build cannot be imported"),
        (("data._target_=no_such_module.load",), DataError, "_target_ no_such_module.load cannot be imported"),
        (("data=images", "data.path={tmp}"), DataError, "holds no images"),
        *DISTRIBUTE_REFUSALS,
    ],
)
def test_bad_data_and_models_are_refused_before_tensorflow_loads(
    compose_config, monkeypatch, tmp_path, overrides, refused, message
):
    (tmp_path / "t.csv").write_text("a,y\n1,2\n")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # importing it now raises ImportError
    cfg = compose_config(*(o.format(table=tmp_path / "t.csv", tmp=tmp_path) for o in overrides))
    with pytest.raises(refused, match=message):
        train(cfg, tmp_path / "run")


def imported_modules(source: str) -> set:
    """Every module an import statement of the source names, relative ones with their leading dots."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            separator = "." if node.module else ""
            found |= {base} | {f"{base}{separator}{alias.name}" for alias in node.names}
    return found


def test_the_machinery_never_imports_the_users_models_or_data():
    """runtime/ reaches models/ and data/ only through the `_target_` of their entries."""
    user_code = (f"{PACKAGE}.models", f"{PACKAGE}.data", "..models", "..data")
    for module in (entry for entry in files(f"{PACKAGE}.runtime").iterdir() if entry.name.endswith(".py")):
        for name in imported_modules(module.read_text(encoding="utf-8")):
            assert not name.startswith(user_code), f"runtime/{module.name} imports {name}"
    assert imported_modules("from .. import data\nfrom ..models.mlp import build") >= {"..data", "..models.mlp"}
