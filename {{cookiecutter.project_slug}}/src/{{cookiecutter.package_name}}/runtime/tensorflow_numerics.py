"""The numerics check's copies on TensorFlow: each runs on one device (`tf.device`) inside `tf.function`, graph
mode as `model.fit` runs, so grappler's and the Metal plug-in's fusions happen; numerics.py compares them.
TensorFlow is passed in by the caller, as in accelerator.py: the module imports none of it.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from . import numerics
from .numerics import Agreement, Recipe, device_kind, variable_name

SECOND_CPU_NOTE = (
    "no accelerator here: the CPU against a second logical CPU (device.check_numerics=true); the whole check ran, "
    "on one kind of device"
)


def devices(target_device: str) -> tuple:
    """(reference, target): the CPU against the accelerator, or against a second logical CPU."""
    return ("/CPU:0", "/CPU:1") if target_device.upper().startswith("/CPU") else ("/CPU:0", target_device)


def against_cpu(tf, recipe: Recipe, batches: list, target_device: str) -> Agreement:
    """The check as a run and the doctor make it: `target_device` against the CPU (see `devices`)."""
    return agreement(tf, recipe, batches, *devices(target_device))


def split_cpu(tf) -> bool:
    """Two logical CPU devices, so the check can run the CPU against a second CPU where no accelerator
    exists. Only possible before TensorFlow starts its runtime; True when two CPUs are there now."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    except RuntimeError:  # the runtime already started: whatever is configured stays
        pass
    return len(tf.config.list_logical_devices("CPU")) >= 2


def run(tf, recipe: Recipe, weights: list, batches: list, device: str, learning_rate: float, steps: int) -> dict:
    """From the given weights, on one device and in graph mode: the forward pass, then `steps` optimizer
    steps. Returns the outputs, the losses, the update after the first step and after the last one."""
    with tf.device(device):
        model = recipe.build_model()
        model.set_weights(weights)
        optimizer = recipe.make_optimizer(learning_rate)
        if hasattr(optimizer, "build"):  # Keras 3 and Keras 2's new optimizers: slots made here, eagerly
            optimizer.build(model.trainable_variables)
    loss_fn = tf.keras.losses.get(recipe.loss)
    variables = model.trainable_variables
    before = [variable.numpy() for variable in variables]

    def updates() -> list:
        return [(variable_name(v), v.numpy() - start) for v, start in zip(variables, before, strict=True)]

    @tf.function
    def forward(x):
        with tf.device(device):
            return model(x, training=False)

    @tf.function
    def step(x, y):
        with tf.device(device):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(loss_fn(y, model(x, training=True)))
            gradients = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(gradients, variables, strict=True))
            return loss

    result = {"outputs": forward(batches[0][0]).numpy() if steps > 1 else None, "losses": []}
    for x, y in batches[:steps]:
        result["losses"].append(float(step(x, y)))
        result.setdefault("first_update", updates())
    result["updates"] = updates()
    return result


def agreement(
    tf,
    recipe: Recipe,
    batches: list,
    reference_device: str,
    target_device: str,
    target_recipe: Recipe | None = None,
) -> Agreement:
    """Compare target_device against reference_device on the recipe's model and optimizer, with TensorFlow.

    `batches` are (x, y) NumPy pairs from the training data; the first STEPS are used. `target_recipe`
    (the same recipe unless given) lets the tests inject faults into the target side only.
    """
    started = time.perf_counter()
    with tf.device(reference_device):
        weights = recipe.build_model().get_weights()
    tf_logger = tf.get_logger()
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # each copy traces its own functions: retracing warnings are expected
    # NVIDIA GPUs multiply in TensorFloat-32 by default (10-bit mantissa): a precision TensorFlow chose, not
    # a fault. The check compares float32 with float32, then gives training its default back.
    tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    both_cpu = all(device_kind(device) == "CPU" for device in (reference_device, target_device))
    try:
        return numerics.compare_devices(  # through the module: the tests inject faults there
            partial(run, tf),
            recipe,
            weights,
            batches,
            (reference_device, target_device),
            target_recipe,
            started=started,
            note=SECOND_CPU_NOTE if both_cpu else "",
        )
    finally:
        tf_logger.setLevel(level)
        tf.config.experimental.enable_tensor_float_32_execution(tf32)
