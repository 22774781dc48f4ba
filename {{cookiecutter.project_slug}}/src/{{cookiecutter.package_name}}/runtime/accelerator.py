"""Which device the config expects on this machine, and proof that the model really runs there.

The decisions are plain functions of facts (the Machine, the details of each visible GPU, the installed
Metal plug-ins), so the tests drive them with fakes on any machine. Only `gpu_details`,
`hide_gpus` and `assert_placement` touch TensorFlow, which the caller passes in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .distribute import misplaced_replicas
from .stack import Machine, installed

log = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "metal", "cuda", "cpu")
REBOOTSTRAP = "re-run `python3 bootstrap.py` in the project folder, which reinstalls the pinned pair"
# Why each plug-in shows no GPU although installed: what to look for.
NO_GPU_CAUSES = {
    "tensorflow-metal": (
        "look above for 'Library not loaded' or 'Symbol not found': a TensorFlow / tensorflow-metal version mismatch"
    ),
    "tensorflow-metal-plugin": (
        "it offers no GPU when TensorFlow is not the version it was built for, when TF_DISABLE_METAL is set, or "
        "below macOS 15"
    ),
}


class PlacementError(RuntimeError):
    """The expected device is missing, or the model is not on it. The message says how to fix it."""


@dataclass(frozen=True)
class Target:
    name: str  # "metal", "cuda" or "cpu"
    device_type: str  # TensorFlow's device type: "GPU" or "CPU"
    device: str  # what the backend's device scope takes: tf.device() or keras.device() (torch)

    def __str__(self) -> str:
        return f"{self.name} ({self.device})"


METAL = Target("metal", "GPU", "/GPU:0")
CUDA = Target("cuda", "GPU", "/GPU:0")
CPU = Target("cpu", "CPU", "/CPU:0")


@dataclass(frozen=True)
class MetalPlugin:
    """An installed Metal plug-in: Apple's tensorflow-metal, or the community tensorflow-metal-plugin."""

    name: str  # the distribution
    version: str
    device_names: tuple  # patterns of the device_name its GPU reports: "METAL" (Apple), the chip's name (community)

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def installed_metal_plugins(providers: dict) -> list:
    """The Metal plug-ins installed here, out of the stack table's `metal_providers`."""
    found = [(name, installed(name), info) for name, info in providers.items()]
    return [MetalPlugin(name, version, tuple(info["device_names"])) for name, version, info in found if version]


def plugin_conflict(plugins: list, stack_plugin: str | None) -> tuple | None:
    """(cause, cure) when two Metal plug-ins are installed: both register the METAL platform and TensorFlow
    aborts the process at import (no Python exception), so this is checked before importing TensorFlow."""
    if len(plugins) < 2:
        return None
    others = " ".join(plugin.name for plugin in plugins if plugin.name != stack_plugin)
    return (
        f"{' and '.join(str(plugin) for plugin in plugins)} are both installed, and TensorFlow aborts at import "
        "with two Metal plug-ins",
        f"`pip uninstall {others}` (this stack uses {stack_plugin}), or re-run `python3 bootstrap.py`",
    )


def is_metal(details: dict, plugins: list) -> bool:
    """A GPU is the Metal GPU when an installed Metal plug-in reports it under its device name: Apple's
    as METAL, the community one as the chip (e.g. "Apple M4 Max"). Anything else is not."""
    name = str(details.get("device_name", ""))
    return any(fnmatchcase(name, pattern) for plugin in plugins for pattern in plugin.device_names)


def expects_metal(requested: str, machine: Machine) -> bool:
    on_apple_silicon_hardware = machine.apple_silicon or machine.rosetta
    return requested == "metal" or (requested == "auto" and on_apple_silicon_hardware)


def device_problem(requested: str, machine: Machine, plugins: list) -> str | None:
    """What rules the requested device out before TensorFlow is even imported; None if nothing does."""
    if requested not in DEVICE_CHOICES:
        return f"device={requested} is unknown; choose one of {', '.join(DEVICE_CHOICES)}."
    if requested == "cuda" and machine.system == "Darwin":
        return "device=cuda: macOS has no CUDA. Use device=metal on Apple Silicon, or device=cpu."
    if not expects_metal(requested, machine):
        return None
    if machine.rosetta:
        return (
            "Metal needs a native arm64 Python, but this one is x86_64 running under Rosetta. Rebuild .venv "
            "from an arm64 Python (`python3 bootstrap.py` in a native terminal), or train with device=cpu."
        )
    if machine.system != "Darwin":
        return (
            f"device=metal needs an Apple Silicon Mac with tensorflow-metal; this machine is "
            f"{machine.describe()}. Use device=auto (CUDA or CPU here) or device=cpu."
        )
    if machine.arch != "arm64":
        return "device=metal: this Intel Mac has no Metal plug-in for TensorFlow. Use device=cpu."
    if not plugins:
        return f"Metal: no Metal plug-in (tensorflow-metal, tensorflow-metal-plugin) is installed here; {REBOOTSTRAP}."
    return None


def resolve(
    requested: str,
    machine: Machine,
    gpus: list,
    *,
    require_accelerator: bool,
    plugins: list,
    tensorflow_version: str = "?",
) -> Target:
    """The device training must use, given the details of every GPU TensorFlow sees.

    `auto` means Metal on Apple Silicon, a CUDA GPU where one is visible, else the CPU. A missing
    Metal GPU is an error unless `require_accelerator` is off, in which case `auto` falls back to the CPU.
    """
    if requested == "cpu":
        return CPU
    problem = device_problem(requested, machine, plugins)
    if problem is None and expects_metal(requested, machine):
        if any(is_metal(details, plugins) for details in gpus):
            return METAL
        problem = (
            f"Metal: {plugins[0]} is installed but TensorFlow {tensorflow_version} shows no Metal GPU, so the "
            f"plug-in did not load ({NO_GPU_CAUSES.get(plugins[0].name, 'a version mismatch')}); {REBOOTSTRAP}."
        )
    if problem:
        if requested == "auto" and not require_accelerator:
            log.warning("%s Falling back to the CPU (device.require_accelerator=false).", problem)
            return CPU
        raise PlacementError(problem)
    if any(not is_metal(details, plugins) for details in gpus):
        return CUDA
    if requested == "cuda":
        raise PlacementError(
            "device=cuda: TensorFlow sees no CUDA GPU. Install TensorFlow's CUDA build with `python3 bootstrap.py "
            "--accelerator cuda`, check the driver with `nvidia-smi` and the rest with the doctor, or use device=auto."
        )
    return CPU


def gpu_details(tf) -> list:
    return [tf.config.experimental.get_device_details(gpu) for gpu in tf.config.list_physical_devices("GPU")]


def hide_gpus(tf) -> None:
    """Keep TensorFlow off every GPU (device=cpu); must run before TensorFlow creates its devices."""
    tf.config.set_visible_devices([], "GPU")


def device_type(device: str) -> str:
    """'/job:localhost/replica:0/task:0/device:GPU:0' -> 'GPU'; '' when TensorFlow did not say."""
    tail = device.rsplit("device:", 1)[-1] if "device:" in device else device.strip("/")
    return tail.split(":")[0].upper()


def variable_device(variable) -> str:
    # Keras 2 variables carry .device; Keras 3 ones raise on it and keep it on the backing tf.Variable.
    return getattr(variable, "device", None) or variable.value.device


def misplaced(variables: list, target: Target) -> list:
    """(name, device) of every variable not on the target's device type."""
    found = []
    for variable in variables:
        device = variable_device(variable)
        if device_type(device) != target.device_type:
            found.append((variable.name, device))
    return found


def probe_device(tf, target: Target) -> str:
    """Where a matmul pinned to the target runs with soft placement off, so TensorFlow cannot quietly
    move it to the CPU. Soft placement is restored afterwards: training needs it for ops Metal lacks."""
    soft = tf.config.get_soft_device_placement()
    tf.config.set_soft_device_placement(False)
    try:
        with tf.device(target.device):
            x = tf.ones((8, 8))
            return tf.matmul(x, x).device
    except (RuntimeError, ValueError, tf.errors.InvalidArgumentError) as error:
        raise PlacementError(f"A probe op could not run on {target}: {str(error).splitlines()[0]}") from None
    finally:
        tf.config.set_soft_device_placement(soft)


def assert_placement(tf, model, target: Target, replicas: tuple = ()) -> str:
    """Fail unless every trainable variable and a probe op sit on the target device; returns the
    probe's device string. Under a distribute strategy, `replicas` lists each replica's device: every
    replica's copy of every variable must sit on its own one."""
    wrong = misplaced(model.trainable_variables, target)
    if wrong:
        name, device = wrong[0]
        raise PlacementError(
            f"{len(wrong)} of {len(model.trainable_variables)} trainable variables are not on {target}: "
            f"{name} is on {device or 'an unknown device'}."
        )
    wrong = misplaced_replicas(model.trainable_variables, replicas) if replicas else []
    if wrong:
        name, replica, device = wrong[0]
        raise PlacementError(
            f"{len(wrong)} replica copies of the trainable variables are not on their replica's device: "
            f"{name} of replica {replica} is on {device}, expected one of {', '.join(replicas)}."
        )
    device = probe_device(tf, target)
    if device_type(device) != target.device_type:
        raise PlacementError(f"A probe op pinned to {target} ran on {device}.")
    return device
