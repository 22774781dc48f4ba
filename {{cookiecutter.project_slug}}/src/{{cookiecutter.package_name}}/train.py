"""Train the model: `python -m {{ cookiecutter.package_name }}.train [key=value ...]`.

Hydra composes conf/train.yaml with the overrides (e.g. `device=cpu trainer.epochs=2 optimizer=sgd`),
and the run writes model.keras and metrics.json into its own run directory under outputs/.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from . import accelerator, numerics
from .data import make_regression
from .stack import Stack, installed, load_stack, this_machine

log = logging.getLogger(__name__)
ARTIFACTS = ("model.keras", "metrics.json")


class RunError(RuntimeError):
    """The run cannot start; the message says why."""


def train(cfg: DictConfig, output_dir: Path) -> dict:
    """Check the device, train, and write the artifacts into output_dir; returns the metrics."""
    output_dir = Path(output_dir)
    taken = [name for name in ARTIFACTS if (output_dir / name).exists()]
    if taken:
        raise RunError(f"{output_dir} already holds {', '.join(taken)}; choose another hydra.run.dir.")

    try:
        numerics_setting = numerics.parse_setting(cfg.device.check_numerics)
    except ValueError as error:
        raise RunError(str(error)) from None
    machine = this_machine()
    metal_plugin = accelerator.metal_plugin_version()
    if cfg.device.name != "auto":  # fail fast, before the seconds `import tensorflow` takes
        problem = accelerator.device_problem(cfg.device.name, machine, metal_plugin)
        if problem:
            raise accelerator.PlacementError(problem)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    import tensorflow as tf

    from . import model as models

    target = accelerator.resolve(
        cfg.device.name,
        machine,
        accelerator.gpu_details(tf),
        require_accelerator=cfg.device.require_accelerator,
        metal_plugin=metal_plugin,
        tensorflow_version=tf.__version__,
    )
    check_numerics = numerics.wanted(numerics_setting, target.name)
    if target == accelerator.CPU:
        accelerator.hide_gpus(tf)
        if check_numerics and not numerics.split_cpu(tf):
            raise RunError(
                "device.check_numerics=true on the CPU compares it with a second logical CPU, which must be "
                "configured before TensorFlow starts; run it from the command line."
            )
    log.info("Training on %s: %s, TensorFlow %s", target, machine.describe(), tf.__version__)

    stack = load_stack()
    models.set_seed(cfg.seed)
    x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
    recipe = models.recipe(cfg, apple_silicon=machine.apple_silicon)
    model = recipe.build_model()
    models.compile_model(
        model,
        recipe.make_optimizer(recipe.learning_rate),
        recipe.loss,
        cfg.trainer.jit_compile,
        on_metal=target == accelerator.METAL,
    )
    probe_device = accelerator.assert_placement(tf, model, target)
    if check_numerics:
        batches = numerics.first_batches(x, y, cfg.trainer.batch_size)
        numerics_record = check_agreement(tf, recipe, batches, target, stack)
    else:
        numerics_record = numerics.not_run("device.check_numerics is off for this device (auto: on for metal, cuda)")

    started = time.perf_counter()
    history = model.fit(
        x,
        y,
        epochs=cfg.trainer.epochs,
        batch_size=cfg.trainer.batch_size,
        validation_split=cfg.trainer.validation_split,
        verbose=cfg.trainer.verbose,
    )
    wall_time = time.perf_counter() - started
    eval_loss = float(model.evaluate(x, y, batch_size=cfg.trainer.batch_size, verbose=0))

    model.save(output_dir / "model.keras")
    metrics = {
        "final_loss": float(history.history["loss"][-1]),
        "final_val_loss": float(history.history["val_loss"][-1]) if "val_loss" in history.history else None,
        "eval_loss": eval_loss,
        "loss_history": [float(value) for value in history.history["loss"]],
        "epochs": cfg.trainer.epochs,
        "device": target.name,
        "device_string": probe_device,
        "variable_device": accelerator.variable_device(model.trainable_variables[0]),
        "machine": machine.describe(),
        "stack": stack.id,
        "numerics": numerics_record,
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": models.keras_version(),
            "tensorflow-metal": metal_plugin,
            "numpy": installed("numpy"),
        },
        "wall_time_seconds": round(wall_time, 3),
    }
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    log.info("Final loss %.4f on %s; artifacts in %s", metrics["final_loss"], target, output_dir)
    return metrics


def check_agreement(tf, recipe, batches: list, target: accelerator.Target, stack: Stack) -> dict:
    """The numerics check before fitting: the target against the CPU; stops the run when they disagree."""
    reference_device, target_device = numerics.devices(target.tf_device)
    result = numerics.agreement(tf, recipe, batches, reference_device, target_device)
    if not result.passed:
        message = numerics.failure_message(result, target.name, stack.id, stack.numerics_reports, stack.alternatives)
        raise numerics.NumericsError(message)
    log.info("Numerics: %s, checked in %.2f s", result.summary(), result.seconds)
    return result.record()


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> None:
    try:
        train(cfg, Path(HydraConfig.get().runtime.output_dir))
    except (accelerator.PlacementError, numerics.NumericsError, RunError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
