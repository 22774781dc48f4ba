"""The doctor's checks of a TensorFlow stack once TensorFlow imports: the known failure signatures of the
import, the devices, TensorFlow's CUDA build on Linux, a placement probe with soft placement off, a matmul
timed on the CPU and on the accelerator, tf-keras for distribute=multi_worker; and how the numerics check
runs (the accelerator, or a second logical CPU, against the CPU)."""

from __future__ import annotations

import os
import time

from . import accelerator, cuda, distribute, tensorflow_numerics
from .environment import (
    DeviceCheck,
    Finding,
    check_metal_limits,
    check_metal_pair,
    check_metal_switch,
    check_tensorboard,
    check_xla,
    plugin_build_record,
)
from .signatures import REBOOTSTRAP, diagnose
from .stack import Machine, Stack, installed


def timing(tf, device: str, size: int = 512, repeats: int = 10) -> float:
    """Milliseconds per (size x size) matmul on the device, after one warm-up."""
    with tf.device(device):
        x = tf.random.uniform((size, size))
        tf.matmul(x, x).numpy()
        started = time.perf_counter()
        for _ in range(repeats):
            y = tf.matmul(x, x)
        y.numpy()
    return (time.perf_counter() - started) * 1000 / repeats


def before_import(machine: Machine, stack: Stack, versions: dict, environ) -> list:
    """What must hold before TensorFlow is imported (a Metal pair that cannot load stops the doctor there), and
    what TensorFlow's tools need: TensorBoard, tf-keras, no XLA forced on Metal."""
    checks = [
        check_metal_pair(stack, versions, plugin_build_record()),
        check_tensorboard(),
        check_metal_limits(stack, versions),
        check_metal_switch(machine, environ),
        check_xla(machine, environ),
        check_tf_keras(stack, installed("tf-keras")),
    ]
    return [finding for finding in checks if finding is not None]


def check_tensorflow(machine: Machine, stack: Stack, force_numerics: bool) -> DeviceCheck:
    """Import TensorFlow, then devices, the expected target, a placement probe and a timing."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    try:
        import tensorflow as tf
    except Exception as error:  # any failure here is the finding, whatever its type
        known = diagnose(f"{type(error).__name__}: {error}")
        cause, cure = known or (f"{type(error).__name__}: {str(error).splitlines()[0]}", REBOOTSTRAP)
        return DeviceCheck([Finding("import tensorflow", "problem", cause, cure)])
    findings = [
        Finding("import tensorflow", "ok", f"TensorFlow {tf.__version__} in {time.perf_counter() - started:.1f} s")
    ]
    if force_numerics:
        tensorflow_numerics.split_cpu(tf)  # before the runtime starts, in case the CPU is all there is

    gpus = accelerator.gpu_details(tf)
    names = ["CPU:0"] + [f"GPU:{i} ({details.get('device_name', '?')})" for i, details in enumerate(gpus)]
    findings.append(Finding("devices", "ok", ", ".join(names)))
    if machine.platform_key == "linux_x86_64":
        findings += check_cuda_here(tf, len(gpus))
    try:
        target = accelerator.resolve(
            "auto",
            machine,
            gpus,
            require_accelerator=True,
            plugins=accelerator.installed_metal_plugins(stack.metal_providers),
            tensorflow_version=tf.__version__,
        )
        probe = accelerator.probe_device(tf, target)
    except accelerator.PlacementError as error:
        return DeviceCheck(findings + [Finding("placement", "problem", str(error), REBOOTSTRAP)])
    findings.append(Finding("placement", "ok", f"expected {target}; probe matmul ran on {probe}"))

    cpu_ms = timing(tf, "/CPU:0")
    if target.device_type == "GPU":
        gpu_ms = timing(tf, target.device)
        detail = f"512x512 matmul: CPU {cpu_ms:.2f} ms, {target.name} {gpu_ms:.2f} ms ({cpu_ms / gpu_ms:.1f}x)"
    else:
        detail = f"512x512 matmul: CPU {cpu_ms:.2f} ms (no accelerator on this machine)"
    findings.append(Finding("timing", "info", detail))

    _, compared = tensorflow_numerics.devices(target.device)
    unavailable = None
    if compared == "/CPU:1" and len(tf.config.list_logical_devices("CPU")) < 2:
        unavailable = "no second logical CPU (it must be configured before TensorFlow starts)"
    return DeviceCheck(
        findings,
        target,
        agreement=lambda recipe, batches: tensorflow_numerics.against_cpu(tf, recipe, batches, target.device),
        unavailable=unavailable,
    )


def check_cuda_here(tf, tf_gpus: int) -> list:
    """cuda.check_cuda on this machine's facts: TensorFlow's build info, the NVIDIA wheels, nvidia-smi."""
    wheels = [
        pattern.format(major=major) for pattern in (cuda.RUNTIME_WHEEL, cuda.CUDNN_WHEEL) for major in cuda.MIN_DRIVER
    ]
    listed = cuda.gpu_names()
    build_info = dict(tf.sysconfig.get_build_info())
    driver = cuda.driver_version() if listed or build_info.get("is_cuda_build") else None
    return cuda.check_cuda(build_info, {name: installed(name) for name in wheels}, listed, driver, tf_gpus)


def check_tf_keras(stack: Stack, tf_keras: str | None) -> Finding | None:
    """On a Keras 3 stack distribute=multi_worker trains with tf-keras, which bootstrap installs from
    requirements-tf-keras.lock: it must be there, and the release of this TensorFlow."""
    if stack.keras < 3:
        return None
    if distribute.legacy_keras_problem("multi_worker", stack.keras, stack.tensorflow, tf_keras) is None:
        return Finding("tf-keras", "ok", f"{tf_keras} (distribute=multi_worker trains with it)")
    wanted = ".".join(stack.tensorflow.split(".")[:2])
    found = f"{tf_keras} is installed, not {wanted}.x" if tf_keras else "not installed"
    return Finding(
        "tf-keras",
        "problem",
        f"{found}: distribute=multi_worker cannot train on this Keras 3 stack",
        f"{REBOOTSTRAP} (it installs requirements-tf-keras.lock)",
    )
