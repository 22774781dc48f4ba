"""The doctor's checks of the keras-torch stack once torch imports: Keras on the torch backend, the devices
torch sees, MPS (built into this torch, and available on this Mac), PYTORCH_ENABLE_MPS_FALLBACK, a placement
probe (every variable of a small Keras model and a matmul on the expected device), a matmul timed on the CPU
and on the accelerator; and how the numerics check runs (runtime/torch_numerics.py: the accelerator, or the
CPU again, against the CPU). No TensorFlow is imported: this stack has none.
"""

from __future__ import annotations

import time

from . import torch_devices, torch_numerics
from .accelerator import PlacementError, Target
from .environment import DeviceCheck, Finding
from .signatures import REBOOTSTRAP
from .stack import Machine
from .torch_devices import FALLBACK_VARIABLE, MPS, TorchFacts

MATMUL_SIZE = 512


def check_torch(machine: Machine, environ, allow_cpu_fallback: bool) -> DeviceCheck:
    """Import torch and Keras on it, then devices, MPS, the fallback variable, the expected target, a
    placement probe and a timing. `allow_cpu_fallback`: the config's device.allow_cpu_fallback."""
    started = time.perf_counter()
    try:
        import torch
    except Exception as error:  # any failure here is the finding, whatever its type
        return DeviceCheck(
            [Finding("import torch", "problem", f"{type(error).__name__}: {first_line(error)}", REBOOTSTRAP)]
        )
    findings = [Finding("import torch", "ok", f"torch {torch.__version__} in {time.perf_counter() - started:.1f} s")]
    from .backend import BackendError, keras

    try:
        imported = keras()
    except (BackendError, ImportError) as error:
        return DeviceCheck(findings + [Finding("keras backend", "problem", first_line(error), REBOOTSTRAP)])
    findings.append(Finding("keras backend", "ok", f"Keras {imported.__version__} on {imported.config.backend()}"))

    found = torch_devices.facts(torch, environ)
    names = ["cpu"] + (["mps:0 (the Apple GPU)"] if found.mps_available else [])
    names += [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(found.cuda_devices)]
    findings.append(Finding("devices", "ok", ", ".join(names)))
    findings.append(check_mps(machine, found))
    if findings[-1].status == "problem":
        return DeviceCheck(findings)
    try:
        target = torch_devices.resolve("auto", machine, found, require_accelerator=True)
    except PlacementError as error:
        return DeviceCheck(findings + [Finding("placement", "problem", str(error), REBOOTSTRAP)])
    findings.append(check_fallback(target, found, environ, allow_cpu_fallback))
    try:
        probe = probe_placement(torch, imported, target)
    except PlacementError as error:
        return DeviceCheck(findings + [Finding("placement", "problem", str(error), REBOOTSTRAP)])
    findings.append(
        Finding("placement", "ok", f"expected {target}; a probe model's variables and matmul ran on {probe}")
    )

    cpu_ms = timing(torch, torch_devices.CPU.device)
    if target != torch_devices.CPU:
        ms = timing(torch, target.device)
        detail = (
            f"{MATMUL_SIZE}x{MATMUL_SIZE} matmul: CPU {cpu_ms:.2f} ms, {target.device_type} {ms:.2f} ms "
            f"({cpu_ms / ms:.1f}x)"
        )
    else:
        detail = f"{MATMUL_SIZE}x{MATMUL_SIZE} matmul: CPU {cpu_ms:.2f} ms (no accelerator on this machine)"
    findings.append(Finding("timing", "info", detail))
    return DeviceCheck(
        findings, target, agreement=lambda recipe, batches: torch_numerics.against_cpu(recipe, batches, target.device)
    )


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_mps(machine: Machine, found: TorchFacts) -> Finding:
    """MPS, the Apple GPU: built into this torch and available on this Mac, in the words of the device decision
    (torch_devices.resolve) when it is not."""
    if not machine.apple_silicon:
        return Finding("mps", "info", f"not on this {machine.describe()} (MPS is the Apple Silicon GPU)")
    try:
        torch_devices.resolve("metal", machine, found, require_accelerator=True)
    except PlacementError as error:
        return Finding("mps", "problem", str(error), "device=cpu trains on the CPU meanwhile")
    return Finding(
        "mps", "ok", f"built into torch {found.torch_version} and available on macOS {machine.macos_version}"
    )


def check_fallback(target: Target, found: TorchFacts, environ, allow_cpu_fallback: bool) -> Finding:
    """PYTORCH_ENABLE_MPS_FALLBACK=1 runs the ops MPS lacks on the CPU without a word: a problem where the
    runs assert MPS (torch_devices.fallback_problem), unless the config allows it."""
    check = "mps fallback"
    if not found.cpu_fallback:
        value = environ.get(FALLBACK_VARIABLE)
        state = "not set" if value is None else f"{value!r} (off)"
        return Finding(check, "ok", f"{FALLBACK_VARIABLE} is {state}: an op MPS lacks stops the run with an error")
    problem = torch_devices.fallback_problem(target, found, allow_cpu_fallback)
    if problem:
        return Finding(
            check,
            "problem",
            problem,
            f"unset {FALLBACK_VARIABLE}, or allow it: device.allow_cpu_fallback=true (for the doctor and train)",
        )
    if target == MPS:
        return Finding(
            check,
            "info",
            f"{FALLBACK_VARIABLE}=1, allowed by device.allow_cpu_fallback=true: the ops MPS lacks run on the CPU",
        )
    return Finding(check, "info", f"{FALLBACK_VARIABLE}=1 is set, and changes nothing without MPS ({target})")


def probe_placement(torch, keras, target: Target) -> str:
    """A small Keras model made in Keras's device scope for the target, checked by torch_devices.assert_placement:
    its variables on the target's device, and a matmul run there."""
    with keras.device(target.device):
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8)])
    return torch_devices.assert_placement(torch, model, target)


def timing(torch, device: str, size: int = MATMUL_SIZE, repeats: int = 10) -> float:
    """Milliseconds per (size x size) matmul on the device, after one warm-up. MPS and CUDA run ops
    asynchronously: the clock stops once the device has finished."""
    kind = device.split(":")[0]
    synchronize = {"mps": lambda: torch.mps.synchronize(), "cuda": lambda: torch.cuda.synchronize()}.get(kind)
    x = torch.rand((size, size), device=device)
    torch.mm(x, x)
    if synchronize:
        synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(x, x)
    if synchronize:
        synchronize()
    return (time.perf_counter() - started) * 1000 / repeats
