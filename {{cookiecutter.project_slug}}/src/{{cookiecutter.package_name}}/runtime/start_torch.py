"""The keras-torch stack's start step (session.py): Keras on PyTorch, on MPS, CUDA or the CPU; no TensorFlow.

`check` refuses a device this machine cannot have before torch's import (distribute= and TensorBoard, which
are TensorFlow's, are refused by the config's schema, conf/schema.py). `start` imports torch, picks the device
(runtime/torch_devices.py) and refuses torch's silent CPU fallback on a run that asserts MPS. The model is built
and fitted inside `keras.device(...)`, so device=cpu trains on the CPU even where Keras would pick MPS itself.
"""

from __future__ import annotations

import logging
import os

from . import backend, numerics, torch_devices, torch_numerics
from .accelerator import PlacementError
from .session import Session

log = logging.getLogger(__name__)

# What metrics.json's "distribute" says on a stack without tf.distribute: one device, as distribute=none.
ONE_DEVICE = {
    "strategy": "none",
    "replicas": 1,
    "devices": [],
    "workers": [],
    "task_index": None,
    "legacy_keras": False,
}


def check(cfg, machine, stack) -> None:
    problem = torch_devices.device_problem(cfg.device.name, machine) if cfg.device.name != "auto" else None
    if problem:
        raise PlacementError(problem)


def start(cfg, machine, stack, checked, numerics_setting: str) -> Session:
    import torch

    found = torch_devices.facts(torch, os.environ)
    target = torch_devices.resolve(cfg.device.name, machine, found, require_accelerator=cfg.device.require_accelerator)
    problem = torch_devices.fallback_problem(target, found, cfg.device.allow_cpu_fallback)
    if problem:
        raise PlacementError(problem)
    if target == torch_devices.MPS and found.cpu_fallback:
        log.warning(
            "%s=1 and device.allow_cpu_fallback=true: operations MPS lacks run on the CPU without a word.",
            torch_devices.FALLBACK_VARIABLE,
        )
    keras = backend.keras()
    log.info(
        "Training on %s: %s, torch %s, Keras %s on PyTorch",
        target,
        machine.describe(),
        torch.__version__,
        keras.__version__,
    )
    return Session(
        target=target,
        check_numerics=numerics.wanted(numerics_setting, target.name),
        versions={"torch": torch.__version__},
        place=lambda model: torch_devices.assert_placement(torch, model, target),
        variable_device=torch_devices.variable_device,
        agreement=lambda recipe, batches: torch_numerics.against_cpu(recipe, batches, target.device),
        distribute_record=lambda: dict(ONE_DEVICE),
        scope=lambda: keras.device(target.device),
    )
