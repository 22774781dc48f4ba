"""The keras-torch stack's devices: which one a run uses (MPS, the Apple GPU; CUDA; the CPU), and proof that
the model really runs there.

As in accelerator.py (the TensorFlow stacks'), the decisions are plain functions of facts (the Machine and
what torch reports, gathered by `facts`), so the tests drive them with fakes on any machine; only `facts`
and `assert_placement` touch torch, which the caller passes in. `device=metal` means MPS here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from .accelerator import DEVICE_CHOICES, PlacementError, Target, expects_metal
from .stack import Machine, version_tuple

log = logging.getLogger(__name__)

# torch's device strings, as keras.device() takes them and tensors report them
MPS = Target("metal", "MPS", "mps:0")
CUDA = Target("cuda", "CUDA", "cuda:0")
CPU = Target("cpu", "CPU", "cpu")
FALLBACK_VARIABLE = "PYTORCH_ENABLE_MPS_FALLBACK"
MACOS_MIN = "14.0"  # torch's macOS wheels are built for macOS 14 or newer (macosx_14_0_arm64)


@dataclass(frozen=True)
class TorchFacts:
    """What torch reports about this machine's devices."""

    torch_version: str
    mps_built: bool  # torch.backends.mps.is_built(): this torch has MPS (every macOS arm64 wheel has)
    mps_available: bool  # torch.backends.mps.is_available(): and this Mac can run it now
    cuda_devices: int  # torch.cuda.device_count()
    cpu_fallback: bool  # PYTORCH_ENABLE_MPS_FALLBACK=1: ops MPS lacks run on the CPU, silently


def facts(torch, environ) -> TorchFacts:
    return TorchFacts(
        torch_version=torch.__version__,
        mps_built=torch.backends.mps.is_built(),
        mps_available=torch.backends.mps.is_available(),
        cuda_devices=torch.cuda.device_count() if torch.cuda.is_available() else 0,
        cpu_fallback=fallback_enabled(environ),
    )


def fallback_enabled(environ) -> bool:
    """As torch reads the variable (aten/src/ATen/mps/MPSFallback.mm, once, when torch loads): C++'s std::stoi,
    so any value that starts with a non-zero integer ("1", "2", " 1") turns the CPU fallback on."""
    number = re.match(r"\s*([+-]?\d+)", environ.get(FALLBACK_VARIABLE, ""))
    return number is not None and int(number.group(1)) != 0


def device_problem(requested: str, machine: Machine) -> str | None:
    """What rules the requested device out before torch is even imported; None if nothing does."""
    if requested not in DEVICE_CHOICES:
        return f"device={requested} is unknown; choose one of {', '.join(DEVICE_CHOICES)}."
    if requested == "cuda" and machine.system == "Darwin":
        return "device=cuda: macOS has no CUDA. Use device=metal (MPS) on Apple Silicon, or device=cpu."
    if not expects_metal(requested, machine):
        return None
    if machine.rosetta:
        return (
            "MPS needs a native arm64 Python, but this one is x86_64 running under Rosetta. Rebuild .venv from an "
            "arm64 Python (`python3 bootstrap.py` in a native terminal), or train with device=cpu."
        )
    if machine.system != "Darwin" or machine.arch != "arm64":
        return (
            f"device=metal means the Apple GPU through MPS, which needs an Apple Silicon Mac; this machine is "
            f"{machine.describe()}. Use device=auto (CUDA or the CPU here) or device=cpu."
        )
    return None


def resolve(requested: str, machine: Machine, found: TorchFacts, *, require_accelerator: bool) -> Target:
    """The device training must use. `auto` means MPS on Apple Silicon, a CUDA GPU where torch sees one, else
    the CPU. A missing MPS is an error unless `require_accelerator` is off, when `auto` falls back to the CPU."""
    if requested == "cpu":
        return CPU
    problem = device_problem(requested, machine)
    if problem is None and expects_metal(requested, machine):
        if found.mps_available:
            return MPS
        problem = mps_unavailable(machine, found)
    if problem:
        if requested == "auto" and not require_accelerator:
            log.warning("%s Falling back to the CPU (device.require_accelerator=false).", problem)
            return CPU
        raise PlacementError(problem)
    if found.cuda_devices:
        return CUDA
    if requested == "cuda":
        raise PlacementError(
            "device=cuda: torch sees no CUDA GPU (torch.cuda.is_available() is False); check the driver with "
            "`nvidia-smi`, or use device=auto."
        )
    return CPU


def mps_unavailable(machine: Machine, found: TorchFacts) -> str:
    """Why torch offers no MPS on this Apple Silicon Mac, as far as the facts tell, and what to do."""
    if not found.mps_built:
        cause = f"torch {found.torch_version} was built without MPS (not the stack's macOS arm64 wheel)"
    elif machine.macos_version and version_tuple(machine.macos_version) < version_tuple(MACOS_MIN):
        cause = (
            f"torch {found.torch_version} uses MPS on macOS {MACOS_MIN} or newer; this Mac runs macOS "
            f"{machine.macos_version}"
        )
    else:
        cause = f"torch {found.torch_version} has MPS but cannot use it here (a macOS VM without a GPU?)"
    return f"MPS: {cause}; run the doctor, or train with device=cpu."


def fallback_problem(target: Target, found: TorchFacts, allow_cpu_fallback: bool) -> str | None:
    """A run that asserts MPS refuses torch's soft placement: with PYTORCH_ENABLE_MPS_FALLBACK=1 the ops MPS
    lacks run on the CPU without a word, so 'the model runs on MPS' could not be promised."""
    if target != MPS or not found.cpu_fallback or allow_cpu_fallback:
        return None
    return (
        f"{FALLBACK_VARIABLE}=1 lets torch run the operations MPS lacks on the CPU without saying so, so this run "
        f"could not assert that it trains on MPS: unset {FALLBACK_VARIABLE}, or set device.allow_cpu_fallback=true "
        "to train with the fallback."
    )


def variable_device(variable) -> str:
    """A Keras 3 variable's device on the torch backend: its backing torch tensor's, e.g. 'mps:0'."""
    return str(variable.value.device)


def device_type(device: str) -> str:
    """'mps:0' -> 'MPS', 'cuda:1' -> 'CUDA', 'cpu' -> 'CPU'."""
    return device.split(":")[0].upper()


def assert_placement(torch, model, target: Target) -> str:
    """Fail unless every trainable variable and a probe op sit on the target device; returns the probe's
    device string (e.g. 'mps:0')."""
    placed = [(variable.path, variable_device(variable)) for variable in model.trainable_variables]
    wrong = [(name, device) for name, device in placed if device_type(device) != target.device_type]
    if wrong:
        name, device = wrong[0]
        raise PlacementError(
            f"{len(wrong)} of {len(model.trainable_variables)} trainable variables are not on {target}: "
            f"{name} is on {device}."
        )
    try:
        x = torch.ones((8, 8), device=target.device)
        device = str((x @ x).device)
    except (RuntimeError, ValueError) as error:
        raise PlacementError(f"A probe op could not run on {target}: {str(error).splitlines()[0]}") from None
    if device_type(device) != target.device_type:
        raise PlacementError(f"A probe op placed on {target} ran on {device}.")
    return device
