"""Every option of every config group composes into a config train() can use (no TensorFlow)."""

from importlib.resources import files

import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.train import RunError, train

CONF = files("{{ cookiecutter.package_name }}.conf")
GROUPS = {"model", "data", "optimizer", "trainer", "device"}
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


def test_defaults(compose_config):
    cfg = compose_config()
    assert cfg.seed == 42
    assert cfg.device.name == "auto" and cfg.device.require_accelerator is True
    assert cfg.optimizer.name == "adam"
    assert (cfg.trainer.epochs, cfg.data.n_samples, cfg.data.n_features, cfg.model.units) == (10, 1000, 10, 1)
    assert cfg.model.hidden_units == []


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_every_option_composes(compose_config, group, option):
    cfg = compose_config(f"{group}={option}")
    OmegaConf.resolve(cfg)
    assert set(cfg) >= GROUPS | {"seed"}
    if group in ("device", "optimizer"):
        assert cfg[group].name == option


def test_overrides_reach_the_config(compose_config):
    cfg = compose_config("trainer.epochs=3", "optimizer=sgd", "optimizer.learning_rate=0.1", "seed=7")
    assert (cfg.trainer.epochs, cfg.optimizer.name, cfg.optimizer.learning_rate, cfg.seed) == (3, "sgd", 0.1, 7)


def test_a_run_never_overwrites_earlier_artifacts(compose_config, tmp_path):
    (tmp_path / "model.keras").write_text("an earlier run's model")
    with pytest.raises(RunError, match="already holds model.keras"):
        train(compose_config(), tmp_path)
    assert (tmp_path / "model.keras").read_text() == "an earlier run's model"
