"""The TensorFlow stacks' start step (session.py): Metal plug-ins, tf.distribute and TensorFlow's devices.

`check` refuses what it can before the seconds `import tensorflow` takes: two Metal plug-ins (TensorFlow
aborts the process at import), a device this machine cannot have, a cluster that cannot resume, a Keras that
cannot train under the strategy. `start` imports TensorFlow, picks the device, builds the strategy.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import partial

from . import accelerator, distribute, numerics, tensorflow_numerics
from .artifacts import RunError
from .session import Session
from .stack import installed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    plugins: list  # the Metal plug-ins installed
    cluster: distribute.Cluster | None


def check(cfg, machine, stack) -> Checked:
    metal_plugins = accelerator.installed_metal_plugins(stack.metal_providers)
    # (two Metal plug-ins make TensorFlow abort the process at import, so this comes first too)
    conflict = accelerator.plugin_conflict(metal_plugins, stack.metal_provider)
    problem = f"Metal: {conflict[0]}: {conflict[1]}." if conflict else None
    if cfg.device.name != "auto":
        problem = problem or accelerator.device_problem(cfg.device.name, machine, metal_plugins)
    if problem:
        raise accelerator.PlacementError(problem)
    cluster = distribute.cluster(cfg.distribute, os.environ)
    if cluster and cfg.resume:
        raise RunError(
            "resume=true with distribute=multi_worker is not supported: each worker keeps its own state; start a "
            "fresh run (or resume the same run on one machine with distribute=none)."
        )
    keras_problem = distribute.legacy_keras_problem(
        cfg.distribute.name, stack.keras, stack.tensorflow, installed("tf-keras")
    ) or distribute.mirrored_keras_problem(
        cfg.distribute.name, len(cfg.distribute.get("devices") or ()), installed("keras")
    )
    if keras_problem:
        raise distribute.DistributeError(keras_problem)
    return Checked(metal_plugins, cluster)


def start(cfg, machine, stack, checked: Checked, numerics_setting: str) -> Session:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    distribute.prepare_environment(cfg.distribute, checked.cluster, stack.keras, os.environ)
    import tensorflow as tf

    target = accelerator.resolve(
        cfg.device.name,
        machine,
        accelerator.gpu_details(tf),
        require_accelerator=cfg.device.require_accelerator,
        plugins=checked.plugins,
        tensorflow_version=tf.__version__,
    )
    check_numerics = numerics.wanted(numerics_setting, target.name)
    if target == accelerator.CPU:
        accelerator.hide_gpus(tf)
        if check_numerics and not tensorflow_numerics.split_cpu(tf):
            raise RunError(
                "device.check_numerics=true on the CPU compares it with a second logical CPU, which must be "
                "configured before TensorFlow starts; run it from the command line."
            )
    strategy = distribute.build(tf, cfg.distribute)
    # devices=null: the replicas (every visible GPU) are known only now
    keras_problem = distribute.mirrored_keras_problem(
        cfg.distribute.name, strategy.num_replicas_in_sync, installed("keras")
    )
    if keras_problem:
        raise distribute.DistributeError(keras_problem)
    log.info(
        "Training on %s: %s, TensorFlow %s, distribute %s",
        target,
        machine.describe(),
        tf.__version__,
        distribute.describe(cfg.distribute, strategy, checked.cluster),
    )
    replicas = distribute.replica_devices(strategy) if cfg.distribute.name != "none" else ()
    return Session(
        target=target,
        check_numerics=check_numerics,
        versions={"tensorflow": tf.__version__, **{name: installed(name) for name in stack.metal_providers}},
        place=lambda model: accelerator.assert_placement(tf, model, target, replicas),
        variable_device=accelerator.variable_device,
        agreement=lambda recipe, batches: tensorflow_numerics.against_cpu(tf, recipe, batches, target.device),
        distribute_record=partial(distribute.record, cfg.distribute, strategy, checked.cluster),
        strategy=strategy,
        cluster=checked.cluster,
    )
