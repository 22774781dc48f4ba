"""The numerics check on the keras-torch stack: does MPS (or a CUDA GPU) compute what the CPU computes?

The comparison, tolerance, learning-rate probe and report are numerics.py's (`compare_devices`), shared with the
TensorFlow stacks; this module runs one copy of the configured model on one device the way Keras's torch trainer
runs `fit` (keras/src/backend/torch/trainer.py, `train_step`): inside Keras's own device scope
(`keras.device("mps:0")`), the loss's `backward()`, the gradients read from each variable's torch tensor, and
`optimizer.apply` under `torch.no_grad()`. There is no graph mode to mirror: Keras on torch runs eagerly unless
jit_compile is asked for. Nothing here imports TensorFlow: this stack has none.
"""

from __future__ import annotations

import contextlib
import time
from functools import partial

import numpy as np

from . import backend, numerics
from .numerics import Agreement, Recipe, variable_name

REFERENCE = "cpu"
SAME_DEVICE_NOTE = (
    "no accelerator here: the CPU against the CPU, two copies on one device (device.check_numerics=true); the "
    "whole check ran, but it cannot show that another device computes the same"
)


def devices(target_device: str) -> tuple:
    """(reference, target) in torch's device strings: the CPU against "mps:0" or "cuda:0", or against itself
    where the CPU is all there is (torch has no second logical CPU, as TensorFlow has)."""
    return REFERENCE, target_device


def against_cpu(recipe: Recipe, batches: list, target_device: str) -> Agreement:
    """The check as a run and the doctor make it: `target_device` against the CPU (see `devices`)."""
    return agreement(recipe, batches, *devices(target_device))


def agreement(
    recipe: Recipe,
    batches: list,
    reference_device: str,
    target_device: str,
    target_recipe: Recipe | None = None,
) -> Agreement:
    """Compare target_device against reference_device (torch device strings: "cpu", "mps:0", "cuda:0") on the
    recipe's model and optimizer. `batches` are (x, y) NumPy pairs from the training data; the first STEPS are
    used. `target_recipe` (the same recipe unless given) lets the tests inject faults into the target only."""
    import torch

    started = time.perf_counter()
    keras = backend.keras()
    with keras.device(reference_device):
        weights = recipe.build_model().get_weights()
    with float32_matmuls(torch):
        return numerics.compare_devices(  # through the module: the tests inject faults there
            partial(run, keras, torch),
            recipe,
            weights,
            batches,
            (reference_device, target_device),
            target_recipe,
            started=started,
            note=SAME_DEVICE_NOTE if reference_device == target_device else "",
        )


@contextlib.contextmanager
def float32_matmuls(torch):
    """NVIDIA GPUs may multiply float32 in TensorFloat-32 (10-bit mantissa) when torch allows it: a precision
    chosen, not a fault. The check compares float32 with float32, then gives training its settings back.
    (The flags exist on every build; on the CPU and MPS they change nothing.)"""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


def run(
    keras, torch, recipe: Recipe, weights: list, batches: list, device: str, learning_rate: float, steps: int
) -> dict:
    """From the given weights, on one device: the forward pass, then `steps` optimizer steps as Keras's torch
    trainer takes them. Returns the outputs, the losses, the update after the first step and after the last
    one (what numerics.compare_devices compares)."""
    with keras.device(device):  # the model's, the optimizer's and the batches' tensors are all made on `device`
        model = recipe.build_model()
        model.set_weights(weights)
        optimizer = recipe.make_optimizer(learning_rate)
        optimizer.build(model.trainable_variables)
        loss_fn = keras.losses.get(recipe.loss)
        variables = model.trainable_variables
        before = [variable.numpy() for variable in variables]

        def updates() -> list:
            return [(variable_name(v), v.numpy() - start) for v, start in zip(variables, before, strict=True)]

        result = {"outputs": None, "losses": []}
        if steps > 1:
            with torch.no_grad():
                result["outputs"] = keras.ops.convert_to_numpy(model(tensor(keras, batches[0][0]), training=False))
        for x, y in batches[:steps]:
            model.zero_grad()  # the previous step's gradients, as train_step clears them
            loss = keras.ops.mean(loss_fn(tensor(keras, y), model(tensor(keras, x), training=True)))
            loss.backward()
            with torch.no_grad():
                optimizer.apply([variable.value.grad for variable in variables], variables)
            result["losses"].append(float(keras.ops.convert_to_numpy(loss)))
            result.setdefault("first_update", updates())
        result["updates"] = updates()
    return result


def tensor(keras, array):
    """A NumPy batch as a tensor on the current keras.device scope's device."""
    return keras.ops.convert_to_tensor(np.asarray(array))
