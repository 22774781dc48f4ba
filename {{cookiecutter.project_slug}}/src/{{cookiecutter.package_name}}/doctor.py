"""Is this machine and environment ready to train, and if not, why:
`python -m {{ cookiecutter.package_name }}.doctor [--json] [--numerics] [overrides ...]`.

It checks the machine (arch, Rosetta, OS and macOS version, chip), the Python, the installed versions
against the chosen stack (TensorFlow, Keras, the Metal plug-in, numpy), whether the installed
TensorFlow / Metal plug-in pair is one that loads, and that TensorBoard imports (environment.py); then it
imports TensorFlow, recognising the known failure signatures, lists the devices, runs a placement probe with
soft placement off, times a matmul on the CPU and on the accelerator, and checks that the accelerator
computes what the CPU computes (the configured model, and a Dense-ReLU MLP: the fused pattern Metal has got
wrong). Exit status 0 when healthy, 1 with the cure otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict

from .runtime import accelerator, cuda, distribute, numerics
from .runtime.environment import (
    Finding,
    check_bytecode,
    check_machine,
    check_metal_limits,
    check_metal_pair,
    check_metal_switch,
    check_tensorboard,
    check_versions,
    check_xla,
    installed_versions,
    plugin_build_record,
    tensorflow_source,
)
from .runtime.signatures import REBOOTSTRAP, diagnose
from .runtime.stack import Machine, Stack, installed, load_stack, this_machine


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


def numerics_configs(overrides: list) -> dict:
    """The training config as the command line would compose it, and the same with the Dense-ReLU MLP."""
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module=f"{__package__}.conf", version_base="1.3"):
        return {
            "configured model": compose(config_name="train", overrides=overrides),
            "Dense-ReLU MLP": compose(config_name="train", overrides=[*overrides, "model=mlp"]),
        }


def check_numerics(tf, machine: Machine, stack: Stack, target, overrides: list, force: bool) -> tuple:
    """(findings, records): the agreement check on the configured model and on the Dense-ReLU MLP."""
    from .data.synthetic import make_regression
    from .runtime import build as models

    configs = numerics_configs(overrides)

    def skipped(status: str, reason: str) -> tuple:
        return [Finding("numerics", status, f"not run: {reason}")], {
            label: numerics.not_run(reason) for label in configs
        }

    if not (force or numerics.wanted("auto", target.name)):
        return skipped("info", "the CPU is the reference itself (--numerics compares it with a second logical CPU)")
    reference_device, target_device = numerics.devices(target.device)
    if target_device == "/CPU:1" and len(tf.config.list_logical_devices("CPU")) < 2:
        return skipped("problem", "no second logical CPU (it must be configured before TensorFlow starts)")
    findings, records = [], {}
    for label, cfg in configs.items():
        x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
        batches = numerics.first_batches(x, y, cfg.trainer.batch_size)
        result = numerics.agreement(
            tf, models.recipe(cfg, machine.apple_silicon), batches, reference_device, target_device
        )
        records[label] = result.record()
        if result.passed:
            findings.append(Finding(f"numerics ({label})", "ok", f"{result.summary()} in {result.seconds:.1f} s"))
        else:
            message = numerics.failure_message(
                result, target.name, stack.id, stack.numerics_reports, stack.alternatives
            )
            detail, _, cure = message.removeprefix("numerics: ").partition(" Cures: ")
            findings.append(Finding(f"numerics ({label})", "problem", detail, cure))
    return findings, records


def check_tensorflow(machine: Machine, stack: Stack, versions: dict, overrides: list, force_numerics: bool) -> tuple:
    """Import TensorFlow, then devices, the expected target, a placement probe, a timing and the numerics
    check; returns (findings, numerics records)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    try:
        import tensorflow as tf
    except Exception as error:  # any failure here is the finding, whatever its type
        known = diagnose(f"{type(error).__name__}: {error}")
        cause, cure = known or (f"{type(error).__name__}: {str(error).splitlines()[0]}", REBOOTSTRAP)
        return [Finding("import tensorflow", "problem", cause, cure)], {}
    findings = [
        Finding("import tensorflow", "ok", f"TensorFlow {tf.__version__} in {time.perf_counter() - started:.1f} s")
    ]
    if force_numerics:
        numerics.split_cpu(tf)  # before the runtime starts, in case the CPU is all there is

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
        return findings + [Finding("placement", "problem", str(error), REBOOTSTRAP)], {}
    findings.append(Finding("placement", "ok", f"expected {target}; probe matmul ran on {probe}"))

    cpu_ms = timing(tf, "/CPU:0")
    if target.device_type == "GPU":
        gpu_ms = timing(tf, target.device)
        detail = f"512x512 matmul: CPU {cpu_ms:.2f} ms, {target.name} {gpu_ms:.2f} ms ({cpu_ms / gpu_ms:.1f}x)"
    else:
        detail = f"512x512 matmul: CPU {cpu_ms:.2f} ms (no accelerator on this machine)"
    findings.append(Finding("timing", "info", detail))
    numerics_findings, records = check_numerics(tf, machine, stack, target, overrides, force_numerics)
    return findings + numerics_findings, records


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


def examine(overrides: list = (), force_numerics: bool = False) -> tuple:
    stack = load_stack()
    machine = this_machine()
    versions = installed_versions()
    python = "{}.{}".format(*sys.version_info[:2])
    findings = [check_machine(machine, stack)]
    python_ok = stack.supports_python(sys.version_info)
    findings.append(
        Finding(
            "python",
            "ok" if python_ok else "problem",
            f"{platform.python_version()} at {sys.executable}"
            + ("" if python_ok else f" (stack: {', '.join(stack.pythons)})"),
            "" if python_ok else REBOOTSTRAP,
        )
    )
    if machine.platform_key in stack.requirements:
        findings += check_versions(stack, machine, versions, python)
    findings.append(check_metal_pair(stack, versions, plugin_build_record()))
    findings.append(check_tensorboard())
    findings += filter(
        None,
        [
            check_metal_limits(stack, versions),
            check_metal_switch(machine, os.environ),
            check_xla(machine, os.environ),
            check_tf_keras(stack, installed("tf-keras")),
        ],
    )
    findings += filter(None, [check_bytecode(os.environ, tensorflow_source())])
    records = {}
    if not any(f.status == "problem" for f in findings if f.check in ("machine", "metal pair")):
        tf_findings, records = check_tensorflow(machine, stack, versions, list(overrides), force_numerics)
        findings += tf_findings
    return stack, findings, records


def verdict(findings: list) -> str:
    problems = [f for f in findings if f.status == "problem"]
    if not problems:
        placement = next((f.detail for f in findings if f.check == "placement"), "")
        agreed = [f.check.removeprefix("numerics ") for f in findings if f.check.startswith("numerics (")]
        return f"healthy: {placement}" + (f"; numerics agree: {', '.join(agreed)}" if agreed else "")
    first = problems[0]
    return f"PROBLEM ({first.check}): {first.detail}" + (f" -> cure: {first.cure}" if first.cure else "")


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check that this machine and .venv can train, and say why not.")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument(
        "--numerics", action="store_true", help="run the numerics check on the CPU too (against a second logical CPU)"
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the checked model, as for train")
    args = parser.parse_args(argv)
    if args.overrides:  # refused as train refuses them, before any check (imported here: Hydra may be missing)
        from .runtime import preflight

        refused = preflight.problem(args.overrides)
        if refused:
            print(f"error: {refused}", file=sys.stderr)
            return 1
    stack, findings, records = examine(args.overrides, args.numerics)
    healthy = not any(f.status == "problem" for f in findings)
    if args.json:
        report = {
            "stack": stack.id,
            "experimental": stack.experimental,
            "healthy": healthy,
            "verdict": verdict(findings),
            "findings": [asdict(f) for f in findings],
            "numerics": records,
        }
        print(json.dumps(report, indent=2))
    else:
        print(f"doctor: stack {stack.title}")
        for finding in findings:
            cure = f"  -> {finding.cure}" if finding.cure and finding.status == "problem" else ""
            print(f"  {finding.status:<8} {finding.check:<18} {finding.detail}{cure}")
        print(f"verdict: {verdict(findings)}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
