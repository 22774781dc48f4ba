"""Is this machine and environment ready to train, and if not, why:
`python -m {{ cookiecutter.package_name }}.doctor [--json] [--numerics] [overrides ...]`.

It checks the machine (arch, Rosetta, OS and macOS version, chip), the Python and the installed versions
against the chosen stack (runtime/environment.py), then the stack's framework:
{%- if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}
torch and Keras on it (the backend asserted), the devices torch sees, MPS (built and available),
PYTORCH_ENABLE_MPS_FALLBACK, a placement probe, a matmul timed on the CPU and on the accelerator
(runtime/torch_checks.py; no TensorFlow is imported: this stack has none).
{%- else %}
the TensorFlow / Metal plug-in pair, TensorBoard and tf-keras before the import, then the import itself
(recognising the known failure signatures), the devices, a placement probe with soft placement off, a matmul
timed on the CPU and on the accelerator (runtime/tensorflow_checks.py).
{%- endif %}
Then it checks that the accelerator computes what the CPU computes (the configured model, and a Dense-ReLU
MLP: the fused pattern Metal has got wrong). Exit status 0 when healthy, 1 with the cure otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from dataclasses import asdict

from .runtime import backend, numerics
from .runtime.environment import (
    DeviceCheck,
    Finding,
    check_bytecode,
    check_machine,
    check_versions,
    framework_source,
    installed_versions,
)
from .runtime.signatures import REBOOTSTRAP
from .runtime.stack import Machine, Stack, load_stack, this_machine

# Findings that stop the doctor before the framework is imported: it could not load, or would abort the process.
BLOCKING = ("machine", "metal pair")


def configured(overrides: list):
    """The training config as the command line would compose it."""
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module=f"{__package__}.conf", version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def numerics_configs(overrides: list) -> dict:
    """The training config as the command line would compose it, and the same with the Dense-ReLU MLP."""
    return {"configured model": configured(overrides), "Dense-ReLU MLP": configured([*overrides, "model=mlp"])}


def check_numerics(check: DeviceCheck, machine: Machine, stack: Stack, overrides: list, force: bool) -> tuple:
    """(findings, records): the agreement check on the configured model and on the Dense-ReLU MLP, run by the
    framework's checks (`check.agreement`: the target against the CPU)."""
    from .data.synthetic import make_regression
    from .runtime import build as models

    configs = numerics_configs(overrides)

    def skipped(status: str, reason: str) -> tuple:
        return [Finding("numerics", status, f"not run: {reason}")], {
            label: numerics.not_run(reason) for label in configs
        }

    if not (force or numerics.wanted("auto", check.target.name)):
        return skipped("info", "the CPU is the reference itself (--numerics runs the check on the CPU too)")
    if check.unavailable:
        return skipped("problem", check.unavailable)
    findings, records = [], {}
    for label, cfg in configs.items():
        x, y = make_regression(cfg.data.n_samples, cfg.data.n_features, cfg.data.noise, cfg.seed)
        batches = numerics.first_batches(x, y, cfg.trainer.batch_size)
        result = check.agreement(models.recipe(cfg, machine.apple_silicon), batches)
        records[label] = result.record()
        if result.passed:
            findings.append(Finding(f"numerics ({label})", "ok", f"{result.summary()} in {result.seconds:.1f} s"))
        else:
            message = numerics.failure_message(
                result, check.target.name, stack.id, stack.numerics_reports, stack.alternatives
            )
            detail, _, cure = message.removeprefix("numerics: ").partition(" Cures: ")
            findings.append(Finding(f"numerics ({label})", "problem", detail, cure))
    return findings, records


def check_framework(machine: Machine, stack: Stack, overrides: list, force_numerics: bool) -> DeviceCheck:
    """The stack's framework imported and its devices checked (runtime/torch_checks.py or tensorflow_checks.py)."""
    if backend.is_torch():
        from .runtime import torch_checks

        # read defensively: a config without the key allows no fallback
        allowed = bool(configured(overrides).device.get("allow_cpu_fallback", False))
        return torch_checks.check_torch(machine, os.environ, allowed)
    from .runtime import tensorflow_checks

    return tensorflow_checks.check_tensorflow(machine, stack, force_numerics)


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
    if not backend.is_torch():
        from .runtime import tensorflow_checks

        findings += tensorflow_checks.before_import(machine, stack, versions, os.environ)
    findings += filter(None, [check_bytecode(os.environ, framework_source(stack.backend), stack.backend)])
    records = {}
    if not any(f.status == "problem" for f in findings if f.check in BLOCKING):
        check = check_framework(machine, stack, list(overrides), force_numerics)
        findings += check.findings
        if check.target is not None:
            numerics_findings, records = check_numerics(check, machine, stack, list(overrides), force_numerics)
            findings += numerics_findings
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
        "--numerics",
        action="store_true",
        help="run the numerics check on the CPU too (TensorFlow: against a second logical CPU; torch: the CPU again)",
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
