"""A started backend: the device a run trains on, and the few steps each backend takes its own way around it.

train.py runs the same five steps on every stack. What differs between TensorFlow (tf.distribute, Metal
plug-ins, soft placement) and PyTorch (MPS, torch's CPU fallback) is decided in two modules with the same two
functions: `check(cfg, machine, stack)`, the refusals that need no backend import, and `start(...)`, which
imports the backend, picks the device and returns a `Session`. `starter()` picks the module: the one place
the backend is chosen for a run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from . import backend
from .accelerator import Target


@dataclass
class Session:
    target: Target
    check_numerics: bool  # device.check_numerics, resolved for this device
    versions: dict  # the backend's entries of metrics.json's "versions" (tensorflow or torch)
    place: Callable  # place(model) -> the probe op's device string; raises PlacementError when misplaced
    variable_device: Callable  # variable_device(variable) -> its device string
    agreement: Callable  # agreement(recipe, batches) -> numerics.Agreement of the target against the CPU
    distribute_record: Callable  # distribute_record() -> metrics.json's "distribute"
    scope: Callable = contextlib.nullcontext  # where the model is built and fitted (keras.device on torch)
    strategy: object | None = None  # tf.distribute's strategy (TensorFlow stacks)
    cluster: object | None = None  # distribute=multi_worker's cluster (TensorFlow stacks)

    @property
    def chief(self) -> bool:
        """Whether this process writes the run directory (every process but multi_worker's other workers)."""
        return self.cluster is None or self.cluster.chief


def starter():
    """This stack's start step: start_torch on the keras-torch stack, start_tensorflow on the others."""
    if backend.is_torch():
        from . import start_torch as module
    else:
        from . import start_tensorflow as module
    return module
