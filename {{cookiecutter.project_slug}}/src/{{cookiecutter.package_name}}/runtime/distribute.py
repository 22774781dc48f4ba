"""The distribute group: train on one device (none), on every GPU of this machine (mirrored), or on several
machines together (multi_worker), with TensorFlow's own tf.distribute strategies.

The decisions (which cluster, which Keras, who writes the artifacts, where each replica's variables must
sit) are plain functions of the config, the environment and the installed versions, tested with fakes;
only `build` touches TensorFlow.

Keras 3's `model.fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585: it cannot convert
the per-replica batches). Keras 2 trains there, so a Keras 3 stack runs multi_worker through `tf_keras`,
the Keras 2 package released with each TensorFlow, selected by TF_USE_LEGACY_KERAS=1 before TensorFlow is
imported; bootstrap.py installs it from requirements-tf-keras.lock. The Keras 2 stack (keras2-legacy) needs
nothing more.

Keras 3 before 3.8 trains wrong under MirroredStrategy with more than one replica (keras-team/keras#19891):
each replica's loss is the mean over its own part of the batch and the replicas' gradients are summed, so
N replicas train like one device at N times the learning rate. Keras 3.8.0 divides each replica's loss by
N (keras-team/keras#20609, #20610). Measured here (see docs/scaling-out.md); such a run is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .stack import version_tuple

NAMES = ("none", "mirrored", "multi_worker")
LEGACY_KERAS = "TF_USE_LEGACY_KERAS"
MIRRORED_FIXED_IN = (3, 8)


class DistributeError(ValueError):
    """The distribute config cannot run here; the message says what to do instead."""


@dataclass(frozen=True)
class Cluster:
    """The multi-worker cluster as this process sees it: every worker's host:port, and which one it is."""

    workers: tuple
    index: int

    @property
    def chief(self) -> bool:
        # With MultiWorkerMirroredStrategy and no "chief" task, worker 0 is the chief (Keras's convention).
        return self.index == 0

    def tf_config(self) -> str:
        return json.dumps({"cluster": {"worker": list(self.workers)}, "task": {"type": "worker", "index": self.index}})


def cluster(cfg, environ) -> Cluster | None:
    """The cluster for distribute=multi_worker: from TF_CONFIG when it is set (what cluster managers set),
    else from distribute.workers and distribute.task_index. None for the other strategies (conf/schema.py
    refuses a name that is none of NAMES)."""
    if cfg.name != "multi_worker":
        return None
    raw = environ.get("TF_CONFIG")
    if raw:
        try:
            spec = json.loads(raw)
            chief = list(spec["cluster"].get("chief", []))
            workers = tuple(chief + list(spec["cluster"].get("worker", [])))
            task = spec["task"]
            index = int(task["index"]) + (0 if task["type"] == "chief" else len(chief))
            if task["type"] not in ("chief", "worker"):
                raise ValueError(f"task type {task['type']!r}")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DistributeError(
                f"TF_CONFIG is not a cluster spec ({error}); expected "
                '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": N}}.'
            ) from None
        source = "TF_CONFIG"
    elif cfg.workers:
        workers, index, source = tuple(cfg.workers), cfg.task_index, "distribute.task_index"
    else:
        raise DistributeError(
            "distribute=multi_worker needs the cluster: set TF_CONFIG, or pass "
            "distribute.workers=[host:port,...] distribute.task_index=N (the same list on every worker)."
        )
    if index is None or not 0 <= int(index) < len(workers):
        raise DistributeError(f"{source}={index} is not a worker of the {len(workers)} in the cluster {list(workers)}.")
    return Cluster(workers, int(index))


def legacy_keras_problem(name: str, keras_major: int, tensorflow: str, tf_keras: str | None) -> str | None:
    """Why multi_worker cannot train with this Keras, or None. Keras 3 needs tf_keras matching TensorFlow."""
    if name != "multi_worker" or keras_major < 3:
        return None
    wanted = ".".join(tensorflow.split(".")[:2])
    if tf_keras and tf_keras.split(".")[:2] == wanted.split("."):
        return None
    found = f"tf-keras {tf_keras} is installed, not {wanted}.x" if tf_keras else "tf-keras is not installed"
    return (
        f"distribute=multi_worker: Keras 3's model.fit fails under MultiWorkerMirroredStrategy "
        f"(keras-team/keras#20585), so this stack trains it with tf-keras {wanted}.x (Keras 2) and {found}: "
        "run `python3 bootstrap.py`, which installs requirements-tf-keras.lock (see docs/scaling-out.md), "
        "or use the keras2-legacy stack, or distribute=mirrored on one machine."
    )


def mirrored_keras_problem(name: str, replicas: int, keras: str | None) -> str | None:
    """Why distribute=mirrored on this many replicas would train wrong with this Keras, or None."""
    if name != "mirrored" or replicas < 2 or not keras or not (3,) <= version_tuple(keras) < MIRRORED_FIXED_IN:
        return None
    return (
        f"distribute=mirrored on {replicas} devices: Keras {keras} sums the replicas' gradients of per-replica "
        f"mean losses, so it would train like one device at {replicas}x the learning rate (keras-team/keras#19891, "
        "fixed in Keras 3.8.0; measured: see docs/scaling-out.md). Train on one device (distribute=none, "
        "or a single entry in distribute.devices); Keras 3.8 or newer (this stack's Linux lock) trains several."
    )


def uses_legacy_keras(name: str, keras_major: int) -> bool:
    return name == "multi_worker" and keras_major >= 3


def prepare_environment(cfg, found: Cluster | None, keras_major: int, environ) -> None:
    """Before TensorFlow is imported: the cluster spec, and tf_keras for a Keras 3 multi-worker run."""
    if found is not None:
        environ["TF_CONFIG"] = found.tf_config()
    if uses_legacy_keras(cfg.name, keras_major):
        environ[LEGACY_KERAS] = "1"


def build(tf, cfg):
    """The strategy: TensorFlow's default one for none (so `strategy.scope()` works everywhere)."""
    if cfg.name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=list(cfg.devices) if cfg.devices else None)
    if cfg.name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def replica_devices(strategy) -> tuple:
    """Where each of this worker's replicas runs, e.g. ('/job:localhost/replica:0/task:0/device:CPU:0',)."""
    return tuple(strategy.extended.worker_devices)


def parts(variable) -> tuple:
    """The per-replica copies of a variable (a MirroredVariable's .values), or the variable itself. Keras 3
    wraps the tf.Variable (in .value); Keras 2's variable is the tf.Variable."""
    backing = variable if hasattr(variable, "values") else getattr(variable, "value", variable)
    copies = getattr(backing, "values", None)
    return tuple(copies) if isinstance(copies, (tuple, list)) else (backing,)


def device_fields(device: str) -> dict:
    """'/job:worker/replica:0/task:1/device:CPU:0' -> {'job': 'worker', 'replica': '0', 'task': '1',
    'device': 'CPU:0'}; device types upper-cased ('/cpu:0' names the same device)."""
    fields = {}
    for part in device.strip("/").split("/"):
        key, _, value = part.partition(":")
        if key == "device":
            fields["device"] = value.upper()
        elif key in ("job", "replica", "task"):
            fields[key] = value
        elif key.upper() in ("CPU", "GPU"):
            fields["device"] = part.upper()
    return fields


def same_device(actual: str, expected: str) -> bool:
    """Whether `actual` is the `expected` device: every field the expectation names must match."""
    have, want = device_fields(actual), device_fields(expected)
    return bool(have.get("device")) and all(have.get(key) == value for key, value in want.items())


def misplaced_replicas(variables: list, expected: tuple) -> list:
    """(name, replica, device) for every copy of a variable not on its replica's device, or a variable
    with the wrong number of copies."""
    found = []
    for variable in variables:
        copies = parts(variable)
        if len(copies) != len(expected):
            found.append((variable.name, "all", f"{len(copies)} copies for {len(expected)} replicas"))
            continue
        for replica, (copy, device) in enumerate(zip(copies, expected, strict=True)):
            if not same_device(copy.device, device):
                found.append((variable.name, replica, copy.device or "an unknown device"))
    return found


def describe(cfg, strategy, found: Cluster | None) -> str:
    if cfg.name == "none":
        return "none"
    where = f", worker {found.index} of {len(found.workers)}{' (chief)' if found.chief else ''}" if found else ""
    return f"{cfg.name}: {strategy.num_replicas_in_sync} replicas in sync{where}"


def record(cfg, strategy, found: Cluster | None) -> dict:
    """What metrics.json says about the strategy."""
    return {
        "strategy": cfg.name,
        "replicas": strategy.num_replicas_in_sync,
        "devices": list(replica_devices(strategy)) if cfg.name != "none" else [],
        "workers": list(found.workers) if found else [],
        "task_index": found.index if found else None,
        "legacy_keras": os.environ.get(LEGACY_KERAS) == "1",
    }
