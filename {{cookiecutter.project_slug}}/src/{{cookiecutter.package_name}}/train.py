"""Train the model: `python -m {{ cookiecutter.package_name }}.train [key=value ...]`.

Hydra composes conf/train.yaml with the overrides (e.g. `data=csv data.path=FILE data.target=COLUMN
model=mlp`, `experiment=debug`, `resume=true`), and the run writes its artifacts into its own run
directory under outputs/ (multirun/ for a sweep, where summary.py adds the sweep's table at the end).
"""

from __future__ import annotations

import hashlib
import logging
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from .conf import schema
from .runtime import (
    accelerator,
    artifacts,
    build,
    callbacks,
    datasets,
    distribute,
    numerics,
    pipelines,
    plots,
    preflight,
    resume,
    rundir,
    session,
)
from .runtime.artifacts import RunError
from .runtime.backend import BackendError
from .runtime.build import ModelError
from .runtime.datasets import DataError
from .runtime.stack import Stack, installed, load_stack, this_machine

log = logging.getLogger(__name__)
REFUSALS = (
    schema.ConfigError,
    accelerator.PlacementError,
    numerics.NumericsError,
    RunError,
    DataError,
    ModelError,
    distribute.DistributeError,
    BackendError,
)


def train(cfg: DictConfig, output_dir: Path) -> dict:
    """Check the data, the model and the device, train, and write the artifacts into output_dir; returns
    the metrics."""
    output_dir = Path(output_dir)
    # Everything that can be refused without the backend (TensorFlow or torch) is, before the seconds its
    # import takes.
    schema.check(cfg)  # (the command line's config was checked before Hydra started: this is for callers)
    artifacts.check_run_dir(output_dir, cfg.resume)
    numerics_setting = numerics.parse_setting(cfg.device.check_numerics)
    machine = this_machine()
    stack = load_stack()
    starter = session.starter()  # the stack's backend: runtime/start_tensorflow.py or start_torch.py
    checked = starter.check(cfg, machine, stack)
    prepared = datasets.prepare(cfg.data, cfg.seed)
    class_weight = datasets.class_weights(prepared, cfg.trainer.class_weight)
    recipe = build.recipe(cfg, machine.apple_silicon, prepared.spec, prepared.preprocessing)

    started = starter.start(cfg, machine, stack, checked, numerics_setting)
    target = started.target
    build.set_seed(cfg.seed, cfg.trainer.deterministic)
    train_data, validation_data = pipelines.pipelines(prepared, cfg.trainer.batch_size, cfg.seed)
    with started.scope():
        model = build.build_compiled(
            recipe, cfg, prepared.spec, on_metal=target.name == "metal", strategy=started.strategy
        )
    probe_device = started.place(model)
    if started.check_numerics:  # on fresh and resumed runs alike, for every kind of data: real batches of it
        batches = pipelines.sample_batches(train_data, numerics.STEPS)
        numerics_record = check_agreement(started, recipe, batches, stack)
    else:
        numerics_record = numerics.not_run("device.check_numerics is off for this device (auto: on for metal, cuda)")

    # Only the chief writes into the run directory. Every other worker runs the same code (Keras saves and
    # checkpoints on every worker) into a temporary folder of its own, deleted at the end: nothing collides.
    chief, cluster = started.chief, started.cluster
    run_dir = output_dir if chief else Path(tempfile.mkdtemp(prefix=f"worker{cluster.index}-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    keras = build.keras
    try:
        epoch_log = callbacks.make_epoch_log(run_dir, keras, persist=cfg.callbacks.backup_and_restore)
        fit_callbacks = callbacks.build(cfg.callbacks, run_dir, keras, epoch_log, validation_data is not None)
        fit_started = time.perf_counter()
        with started.scope():  # torch: the batches go to the model's device (keras.device)
            model.fit(
                train_data,
                validation_data=validation_data,
                epochs=cfg.trainer.epochs,
                callbacks=fit_callbacks,
                class_weight=class_weight,
                verbose=cfg.trainer.verbose,
                shuffle=False,  # the pipeline reshuffles every epoch, seeded
            )
        wall_time = time.perf_counter() - fit_started
        best_epoch = callbacks.restore_best(model, fit_callbacks, keras)
        artifacts.drop_backup(run_dir)
        history = epoch_log.history()
        if artifacts.stopped_by_nan(history):
            stopped = " and TerminateOnNaN stopped the run" if cfg.callbacks.terminate_on_nan else ""
            raise RunError(
                f"the loss became NaN or infinite in epoch {len(history['loss'])}{stopped}; what the run wrote is "
                f"kept in {run_dir}. Lower optimizer.learning_rate, or check the data for NaN/inf values."
            )

        model.save(run_dir / artifacts.MODEL)
        rundir.write_model_info(run_dir, prepared, cfg.data, cfg.seed)
        metrics = {
            **artifacts.final(history, best_epoch),
            "best_epoch": None if best_epoch is None else best_epoch + 1,
            "loss_history": history["loss"],
            "history": history,
            "epochs": cfg.trainer.epochs,
            "epochs_run": len(history["loss"]),
            "resumed_from_epoch": epoch_log.started_from,
            "task": prepared.spec.task,
            "classes": list(prepared.spec.class_names),
            "n_train": prepared.n_train,
            "n_validation": prepared.n_validation,
            "n_test": prepared.n_test,
            "class_weight": class_weight and {prepared.spec.class_names[i]: w for i, w in class_weight.items()},
            "device": target.name,
            "device_string": probe_device,
            "variable_device": started.variable_device(model.trainable_variables[0]),
            "machine": machine.describe(),
            "stack": stack.id,
            "numerics": numerics_record,
            "versions": {
                "python": platform.python_version(),
                "keras": build.keras_version(),
                **started.versions,  # tensorflow and the Metal plug-ins, or torch on the keras-torch stack
                "numpy": installed("numpy"),
            },
            "wall_time_seconds": round(wall_time, 3),
            "epoch_seconds": epoch_log.epoch_seconds(),
            "distribute": started.distribute_record(),
            "weights_sha256": weights_sha256(model),
        }
        if cfg.loss_curve:
            plots.training_curves(history, run_dir / artifacts.LOSS_CURVE)
        artifacts.write_metrics(run_dir, metrics)
        log.info("Final loss %.4f on %s; artifacts in %s", metrics["final_loss"], target, run_dir)
        log.info("Weights sha256 %s", metrics["weights_sha256"])
        return metrics
    finally:
        if not chief:
            shutil.rmtree(run_dir, ignore_errors=True)


def weights_sha256(model) -> str:
    """One digest of every weight: workers of one run must end with the same one."""
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(weights.tobytes())
    return digest.hexdigest()


def check_agreement(started: session.Session, recipe, batches: list, stack: Stack) -> dict:
    """The numerics check before fitting: the target against the CPU; stops the run when they disagree."""
    result = started.agreement(recipe, batches)
    if not result.passed:
        message = numerics.failure_message(
            result, started.target.name, stack.id, stack.numerics_reports, stack.alternatives
        )
        raise numerics.NumericsError(message)
    log.info("Numerics: %s, checked in %.2f s", result.summary(), result.seconds)
    return result.record()


@hydra.main(version_base="1.3", config_path="conf", config_name=preflight.CONFIG_NAME)
def run(cfg: DictConfig) -> None:
    hydra_config = HydraConfig.get()
    output_dir = Path(hydra_config.runtime.output_dir)
    sweeping = hydra_config.mode == RunMode.MULTIRUN
    try:
        if cfg.resume and hydra_config.output_subdir is None and (output_dir / resume.SAVED_CONFIG).is_file():
            cfg = resume.resumed_config(output_dir, cfg, hydra_config.overrides.task)
            artifacts.check_run_dir(output_dir, resume=True)  # a finished run is refused before it is touched
            resume.record(output_dir, hydra_config.overrides.task)
            log.info("Resuming %s with its own config (%s)", output_dir, resume.SAVED_CONFIG)
        train(cfg, output_dir)
    except REFUSALS as error:
        print(f"error: {error}", file=sys.stderr)
        if not sweeping:
            sys.exit(1)
        artifacts.write_error(output_dir, one_line(str(error)))
    except Exception as error:
        if not sweeping:
            raise
        # A sweep goes on with its other jobs: the traceback goes to this job's log, the line to its summary
        # row, and the summary (runtime/summary.py) makes the sweep exit 1 at the end, naming this job.
        log.exception("The job failed")
        artifacts.write_error(output_dir, one_line(f"{type(error).__name__}: {error}"))


def one_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def main() -> None:
    """The command line: refused in one or two lines when its config cannot run (a wrong type, a value out of
    range, an option or key that does not exist), before Hydra makes the run directory; else Hydra's app. A
    resume of a run that saved its config keeps the run's own .hydra/ record."""
    refused = preflight.problem(sys.argv[1:])
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        sys.exit(1)
    if resume.resumed_run_dir(sys.argv[1:]):
        sys.argv.append("hydra.output_subdir=null")
    run()


if __name__ == "__main__":
    main()
