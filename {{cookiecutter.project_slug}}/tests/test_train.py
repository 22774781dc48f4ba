"""A real, short training run through the Hydra entry point, in this process.

The command line's exit status and one-line error for device=metal are checked by running it
(see the template's tests); here the same refusal is checked on train() itself.
"""

import json
import math
import sys

import pytest

from {{ cookiecutter.package_name }}.accelerator import PlacementError
from {{ cookiecutter.package_name }}.stack import this_machine
from {{ cookiecutter.package_name }}.train import main, train
from markers import not_on_apple_silicon


def run_cli(monkeypatch, *overrides):
    monkeypatch.setattr(sys, "argv", ["train", *overrides])
    main()


def expected_device(tf):
    if this_machine().apple_silicon:
        return "metal"
    return "cuda" if tf.config.list_physical_devices("GPU") else "cpu"


def test_training_writes_the_model_and_metrics(tf, monkeypatch, tmp_path):
    run_cli(monkeypatch, "trainer.epochs=3", "trainer.verbose=0", f"hydra.run.dir={tmp_path}")

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["device"] == expected_device(tf)
    assert metrics["epochs"] == 3 and len(metrics["loss_history"]) == 3
    assert all(math.isfinite(value) for value in metrics["loss_history"])
    assert metrics["loss_history"][-1] < metrics["loss_history"][0]
    assert metrics["versions"]["tensorflow"] and metrics["versions"]["keras"]
    if metrics["device"] == "cpu":  # device.check_numerics=auto: off on the CPU, which is the reference
        assert metrics["numerics"]["ran"] is False and "auto" in metrics["numerics"]["reason"]

    model = tf.keras.models.load_model(tmp_path / "model.keras")
    assert model.predict(tf.zeros((4, 10)), verbose=0).shape == (4, 1)


@not_on_apple_silicon
def test_device_metal_off_apple_silicon_stops_before_training(compose_config, tmp_path):
    with pytest.raises(PlacementError, match="device=metal needs an Apple Silicon Mac"):
        train(compose_config("device=metal"), tmp_path)
    assert not (tmp_path / "metrics.json").exists()
