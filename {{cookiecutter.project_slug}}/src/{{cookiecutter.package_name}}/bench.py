"""Is the accelerator faster for this model?
`python -m {{ cookiecutter.package_name }}.bench [overrides] [--json]`

Trains the configured model on the configured data (the same Hydra overrides as train, e.g. `model=mlp
data.n_samples=100000`) on each device this machine has: the CPU always, and the accelerator where the
framework sees one ({% if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}MPS or a CUDA GPU, through torch; each inside keras.device{% else %}the Metal or CUDA GPU, through TensorFlow; each inside tf.device{% endif %}). One warm-up epoch
(tracing, caches), then the median of several timed epochs, as training samples per second, side by side.
Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from .runtime import accelerator, backend, build, datasets, pipelines, preflight
from .runtime.stack import load_stack, this_machine
from .train import REFUSALS


def measure(device_scope, target, prepared, cfg, recipe, epochs: int) -> dict:
    """Seconds per epoch on one device (inside `device_scope(target.device)`), after a warm-up epoch."""
    keras = build.keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    timer = EpochTimer()
    with device_scope(target.device):
        build.set_seed(cfg.seed)
        train_data, _ = pipelines.pipelines(prepared, cfg.trainer.batch_size, cfg.seed)
        model = build.build_compiled(recipe, cfg, prepared.spec, on_metal=target.name == "metal")
        model.fit(train_data, epochs=1 + epochs, verbose=0, shuffle=False, callbacks=[timer])
    timed = timer.seconds[1:]
    median = statistics.median(timed)
    return {
        "device": target.name,
        "device_string": target.device,
        "samples_per_second": round(prepared.n_train / median, 1),
        "median_epoch_seconds": round(median, 5),
        "epoch_seconds": [round(seconds, 5) for seconds in timed],
    }


def no_accelerator_reason(machine, metal_plugins: list) -> str:
    """Why only the CPU is measured on a TensorFlow stack, in the words of the device checks."""
    if machine.apple_silicon or machine.rosetta:
        problem = accelerator.device_problem("metal", machine, metal_plugins)
        return problem or "a Metal plug-in is installed but TensorFlow shows no Metal GPU (the plug-in did not load)"
    return (
        f"TensorFlow sees no GPU on this {machine.describe()}: Metal needs an Apple Silicon Mac, CUDA an NVIDIA GPU "
        "with the CUDA lock installed (python3 bootstrap.py --accelerator cuda)"
    )


def tensorflow_targets(machine) -> tuple:
    """(tf.device, the CPU, the best device, why there is no accelerator row or None) on a TensorFlow stack."""
    metal_plugins = accelerator.installed_metal_plugins(load_stack().metal_providers)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    best = accelerator.resolve(
        "auto", machine, accelerator.gpu_details(tf), require_accelerator=False, plugins=metal_plugins
    )
    why = None if best != accelerator.CPU else no_accelerator_reason(machine, metal_plugins)
    return tf.device, accelerator.CPU, best, why


def torch_targets(machine) -> tuple:
    """(keras.device, the CPU, the best device, why there is no accelerator row or None) on the keras-torch
    stack, in the words of its device checks (runtime/torch_devices.py)."""
    import torch

    from .runtime import torch_devices

    found = torch_devices.facts(torch, os.environ)
    try:
        best = torch_devices.resolve("auto", machine, found, require_accelerator=True)
    except accelerator.PlacementError as error:
        return backend.keras().device, torch_devices.CPU, torch_devices.CPU, str(error)
    why = None
    if best == torch_devices.CPU:
        why = (
            f"torch sees no GPU on this {machine.describe()}: MPS needs an Apple Silicon Mac, CUDA an NVIDIA GPU "
            "and its driver (torch's Linux wheels bring the CUDA libraries)"
        )
    return backend.keras().device, torch_devices.CPU, best, why


def run(overrides: list, epochs: int) -> dict:
    cfg = preflight.compose_checked(overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # as under `train`: messages name the entries' YAML files
    machine = this_machine()
    prepared = datasets.prepare(cfg.data, cfg.seed)
    recipe = build.recipe(cfg, machine.apple_silicon, prepared.spec, prepared.preprocessing)
    device_scope, cpu, best, why = (torch_targets if backend.is_torch() else tensorflow_targets)(machine)
    targets = [cpu] + ([best] if best != cpu else [])
    rows = [measure(device_scope, target, prepared, cfg, recipe, epochs) for target in targets]
    result = {
        "model": cfg.model.get("name") or cfg.model._target_,
        "data": prepared.spec.kind,
        "n_train": prepared.n_train,
        "batch_size": cfg.trainer.batch_size,
        "epochs_timed": epochs,
        "rows": rows,
        "faster": None,
        "speedup": None,
        "no_accelerator_reason": None if len(rows) > 1 else why,
    }
    if len(rows) > 1:
        fast, slow = sorted(rows, key=lambda row: -row["samples_per_second"])
        result["faster"] = fast["device"]
        result["speedup"] = round(fast["samples_per_second"] / slow["samples_per_second"], 2)
    return result


def report(result: dict) -> str:
    lines = [
        f"bench: model={result['model']} data={result['data']}, {result['n_train']} training samples, batch "
        f"{result['batch_size']}; one warm-up epoch, then the median of {result['epochs_timed']}",
        f"  {'device':<16}{'samples/s':>14}{'s/epoch':>12}",
    ]
    lines += [
        f"  {row['device'] + ' (' + row['device_string'] + ')':<16}{row['samples_per_second']:>14,.0f}"
        f"{row['median_epoch_seconds']:>12.4f}"
        for row in result["rows"]
    ]
    if result["faster"]:
        slower = next(row["device"] for row in result["rows"] if row["device"] != result["faster"])
        lines.append(f"{result['faster']} is {result['speedup']:.2f}x as fast as {slower} for this model and data")
    else:
        lines.append(f"no accelerator row: {result['no_accelerator_reason']}")
    return "\n".join(lines)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}.bench", description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as for train (e.g. model=mlp)")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per device, after the warm-up")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    try:
        result = run(args.overrides, max(1, args.epochs))
    except REFUSALS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (HydraException, OmegaConfBaseException) as error:  # an option, a key or a type the config has not
        print(f"error: {preflight.one_line(error)}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
