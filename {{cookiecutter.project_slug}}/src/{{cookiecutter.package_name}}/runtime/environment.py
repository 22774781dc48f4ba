"""The doctor's judgements of this environment that need no framework imported: the machine, the installed
versions against the stack, the Metal plug-in against the TensorFlow it must load into, environment switches
and the framework's bytecode.

Plain functions of facts (versions, environment variables, a Machine), so the tests drive them with fakes.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from . import accelerator
from .signatures import NUMPY_2, REBOOTSTRAP, XLA_CURE, XLA_ON_METAL, diagnose
from .stack import PLUGIN_BUILD_RECORD, Machine, Stack, installed, machine_problem, sysctl

DISTRIBUTIONS = (
    "tensorflow",
    "tensorflow-macos",
    "tensorflow-cpu",
    "tensorflow-metal",
    "tensorflow-metal-plugin",
    "torch",
    "keras",
    "numpy",
)
# The framework each backend imports: its module and its name in messages.
FRAMEWORKS = {"tensorflow": ("tensorflow", "TensorFlow"), "torch": ("torch", "torch")}


@dataclass
class Finding:
    check: str
    status: str  # "ok", "info" or "problem"
    detail: str
    cure: str = ""


@dataclass
class DeviceCheck:
    """What the framework's own checks found (tensorflow_checks.py, torch_checks.py), and how the doctor runs
    the numerics check on the device they expect."""

    findings: list
    target: object = None  # the accelerator.Target the checks expect; None when they stopped at a problem
    agreement: Callable | None = None  # (recipe, batches) -> numerics.Agreement: the target against the CPU
    unavailable: str | None = None  # why the numerics check cannot run here, if it cannot


def installed_versions() -> dict:
    return {name: installed(name) for name in DISTRIBUTIONS}


def tensorflow_version(versions: dict) -> str | None:
    return versions.get("tensorflow") or versions.get("tensorflow-macos") or versions.get("tensorflow-cpu")


def check_versions(stack: Stack, machine: Machine, versions: dict, python_version: str) -> list:
    """The installed distributions against the stack's pins for this platform and Python."""
    findings = []
    environment = {"python_version": python_version, "python_full_version": python_version + ".0"}
    for text in stack.requirements.get(machine.platform_key, []) + list(stack.common):
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        found = versions.get(requirement.name)
        if found is None:
            findings.append(Finding(requirement.name, "problem", f"not installed (stack: {requirement})", REBOOTSTRAP))
        elif not requirement.specifier.contains(found, prereleases=True):
            why = f": {NUMPY_2}" if requirement.name == "numpy" and found.startswith("2.") else ""
            detail = f"{found} is not {requirement}{why}"
            findings.append(Finding(requirement.name, "problem", detail, f"reinstall the lock: {REBOOTSTRAP}"))
        else:
            findings.append(Finding(requirement.name, "ok", f"{found} ({requirement.specifier})"))
    return findings


def check_metal_pair(stack: Stack, versions: dict, build_record: dict | None = None) -> Finding:
    """The installed Metal plug-in against the installed TensorFlow: Apple's by the loading matrix, the
    community one by the TensorFlow it was built against (bootstrap's record, else its declared version)."""
    plugins = [name for name in stack.metal_providers if versions.get(name)]
    tf_version = tensorflow_version(versions)
    if not plugins:
        return Finding("metal plug-in", "info", "none installed")
    conflict = accelerator.plugin_conflict(
        [accelerator.MetalPlugin(name, versions[name], ()) for name in plugins], stack.metal_provider
    )
    if conflict:
        return Finding("metal pair", "problem", *conflict)
    (name,) = plugins
    plugin = f"{name} {versions[name]} ({stack.metal_providers[name]['by']})"
    if name == "tensorflow-metal":
        metal = versions[name]
        minor = ".".join((tf_version or "?").split(".")[:2])
        if minor in stack.metal_loads.get(metal, []):
            return Finding("metal pair", "ok", f"{plugin} loads into TensorFlow {tf_version}")
        return Finding(
            "metal pair",
            "problem",
            f"{plugin} cannot load into TensorFlow {tf_version} "
            f"(it loads {', '.join(stack.metal_loads.get(metal, [])) or 'no checked version'})",
            f"restore the pinned pair: {REBOOTSTRAP}; or pip uninstall tensorflow-metal to train on the CPU",
        )
    built_for = (build_record or {}).get("tensorflow") or stack.metal_providers[name]["built_for"].get(versions[name])
    if built_for == tf_version:
        return Finding("metal pair", "ok", f"{plugin}, built against TensorFlow {tf_version}")
    return Finding(
        "metal pair",
        "problem",
        f"{plugin} was built for TensorFlow {built_for}, but {tf_version} is installed: it offers no GPU then",
        f"{REBOOTSTRAP} (it reinstalls the locked TensorFlow and rebuilds the plug-in against it)",
    )


def check_metal_limits(stack: Stack, versions: dict) -> Finding | None:
    """What the community plug-in cannot do yet with a released TensorFlow, said plainly."""
    tf_minor = ".".join((tensorflow_version(versions) or "?").split(".")[:2])
    if versions.get("tensorflow-metal-plugin") and tf_minor in ("2.20", "2.21"):
        return Finding(
            "metal limits",
            "info",
            f"with tensorflow-metal-plugin and TensorFlow {tf_minor} the optimizer updates run on the CPU (training "
            "on Metal is still correct, and may be slower than the CPU: "
            f"`python -m {__package__.rpartition('.')[0]}.bench` measures it); fixed upstream for TensorFlow 2.22",
        )
    return None


def check_metal_switch(machine: Machine, environ: dict) -> Finding | None:
    """TF_DISABLE_METAL keeps the community plug-in from registering its GPU."""
    value = environ.get("TF_DISABLE_METAL", "")
    if machine.platform_key == "apple_silicon" and value not in ("", "0"):
        return Finding(
            "metal switch",
            "problem",
            f"TF_DISABLE_METAL={value} keeps the Metal plug-in from offering its GPU",
            "unset TF_DISABLE_METAL (or train with device=cpu on purpose)",
        )
    return None


def plugin_build_record() -> dict | None:
    """What bootstrap.py recorded when it built the Metal plug-in in this environment, if it did."""
    path = Path(sys.prefix) / PLUGIN_BUILD_RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def check_machine(machine: Machine, stack: Stack) -> Finding:
    chip = sysctl("machdep.cpu.brand_string") if machine.system == "Darwin" else ""
    detail = machine.describe() + (f", {chip}" if chip else "") + f", {os.cpu_count()} cores"
    problem = machine_problem(machine, stack)
    return Finding("machine", "problem" if problem else "ok", detail if not problem else problem)


def check_xla(machine: Machine, environ: dict) -> Finding | None:
    """XLA auto-clustering forced on through TF_XLA_FLAGS breaks every run on the Metal GPU."""
    flags = environ.get("TF_XLA_FLAGS", "")
    if machine.apple_silicon and "auto_jit" in flags:
        return Finding("xla", "problem", f"TF_XLA_FLAGS={flags}: {XLA_ON_METAL}", XLA_CURE)
    return None


def framework_source(backend: str) -> str | None:
    """The file of the backend's framework package __init__ in this environment (found, not imported), or None."""
    spec = importlib.util.find_spec(FRAMEWORKS[backend][0])
    return spec.origin if spec is not None and spec.has_location else None


def check_bytecode(environ: dict, framework_init: str | None, backend: str = "tensorflow") -> Finding | None:
    """PYTHONDONTWRITEBYTECODE keeps Python from writing the bytecode it compiles, so without the .pyc files an
    install writes, every process compiles the framework's sources again (its import takes about twice as long)."""
    if not environ.get("PYTHONDONTWRITEBYTECODE") or framework_init is None:
        return None
    if Path(importlib.util.cache_from_source(framework_init)).exists():
        return None
    module, name = FRAMEWORKS[backend]
    return Finding(
        "bytecode",
        "info",
        f"PYTHONDONTWRITEBYTECODE is set and {name} here has no compiled bytecode, so every run compiles it again "
        f"(import {module} takes about twice as long): re-run `{REBOOTSTRAP}`, which installs with bytecode",
        REBOOTSTRAP,
    )


def check_tensorboard(import_module=importlib.import_module) -> Finding:
    """`make tensorboard` runs tensorboard.main, which imports what the TensorBoard callback's logs need to be
    seen (pkg_resources before TensorBoard 2.20): a failed import is a problem with its cure."""
    try:
        import_module("tensorboard.main")
    except Exception as error:  # any failure here is the finding, whatever its type
        text = f"{type(error).__name__}: {error}"
        cause, cure = diagnose(text) or (text.splitlines()[0], REBOOTSTRAP)
        return Finding("tensorboard", "problem", cause, cure)
    return Finding("tensorboard", "ok", f"TensorBoard {installed('tensorboard')} imports")
