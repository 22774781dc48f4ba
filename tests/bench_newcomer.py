"""What a newcomer waits for, from `cookiecutter` to a trained model, with PYTHONDONTWRITEBYTECODE set and unset.

    python tests/bench_newcomer.py [--rounds N] [--before DIR]

Each sequence starts from nothing in a new folder and times, as the README's quick start runs them:
  1. generate + bootstrap: `cookiecutter --no-input <template> bootstrap=auto` (uv, warm cache; the hook runs
     bootstrap.py, whose closing doctor imports TensorFlow);
  2. the first `python -m <package>.train`: until its first epoch has finished (Keras' one line per epoch), and
     to the end of the run;
  3. a second `train`, the same two times;
  4. the generated project's default `python -m pytest`.
Every step runs with PYTHONDONTWRITEBYTECODE=1 (as in many shells and container images: no process writes
.pyc files) or without it (the first processes write them). --before DIR adds the same sequences for another
checkout of the template (e.g. the commit before a change) as rows of their own. Sequences run interleaved,
N rounds, the order rotated each round; the table holds the medians.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers import DEFAULT_PACKAGE, TEMPLATE, env_with_uv

# Keras' verbose=2 line at the end of an epoch: "32/32 - 1s - 21ms/step - loss: 0.9 - ..."
EPOCH_DONE = re.compile(r"^\d+/\d+ - .*loss: ")
STEPS = ("generate + bootstrap", "train 1: epoch 1", "train 1", "train 2: epoch 1", "train 2", "pytest")


def timed(command: list, cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return time.perf_counter() - started


def timed_train(project: Path, env: dict) -> tuple:
    """(seconds to the end of the first epoch, seconds to the end of the run) of one default training run."""
    command = [project / ".venv" / "bin" / "python", "-m", f"{DEFAULT_PACKAGE}.train"]
    started = time.perf_counter()
    first_epoch = None
    with subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        output = []
        for line in process.stdout:
            output.append(line)
            if first_epoch is None and EPOCH_DONE.match(line):
                first_epoch = time.perf_counter() - started
    if process.returncode != 0 or first_epoch is None:
        sys.exit(f"error: train failed or printed no epoch line:\n{''.join(output)[-3000:]}")
    return first_epoch, time.perf_counter() - started


def sequence(template: Path, dont_write_bytecode: bool) -> list:
    """The seconds of each of STEPS for a newcomer starting from nothing in a new folder."""
    env = env_with_uv() | {"PYTHONUNBUFFERED": "1"}  # the epoch lines arrive as they are printed
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if dont_write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="newcomer-") as tmp:
        generate = [sys.executable, "-m", "cookiecutter", "--no-input", template, "-o", tmp, "bootstrap=auto"]
        seconds = [timed(generate, Path(tmp), env)]
        project = Path(tmp) / "keras-metal-project"
        if not (project / ".venv" / "bin" / "python").exists():
            sys.exit(f"error: {template} generated no bootstrapped project")
        seconds += [*timed_train(project, env), *timed_train(project, env)]
        seconds.append(timed([project / ".venv" / "bin" / "python", "-m", "pytest", "-q"], project, env))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout of the template, measured alongside")
    args = parser.parse_args()
    templates = {"this template": TEMPLATE} | ({f"{args.before}": args.before.resolve()} if args.before else {})
    for template in templates.values():
        if not (template / "cookiecutter.json").exists():
            sys.exit(f"error: {template} is not a checkout of the template (no cookiecutter.json)")
    configs = [(name, flag) for name in templates for flag in (True, False)]
    times = {config: [] for config in configs}
    for round_number in range(1, args.rounds + 1):
        start = round_number % len(configs)  # the order rotates, so no configuration always runs first or last
        for name, flag in configs[start:] + configs[:start]:
            times[name, flag].append(sequence(templates[name], flag))
            print(
                f"round {round_number}, {name}, PYTHONDONTWRITEBYTECODE {'=1' if flag else 'unset'}: "
                + ", ".join(f"{step} {s:.1f} s" for step, s in zip(STEPS, times[name, flag][-1], strict=True)),
                flush=True,
            )
    cpus = os.cpu_count()
    print(f"\nmedians of {args.rounds} interleaved rounds, seconds ({sys.platform}, {cpus} cores, uv warm cache):\n")
    print("| template | PYTHONDONTWRITEBYTECODE | " + " | ".join(STEPS) + " | total |")
    print("|---" * (len(STEPS) + 3) + "|")
    for name, flag in configs:
        medians = [statistics.median(column) for column in zip(*times[name, flag], strict=True)]
        total = statistics.median(run[0] + run[2] + run[4] + run[5] for run in times[name, flag])
        cells = " | ".join(f"{value:.1f}" for value in medians)
        print(f"| {name} | {'1' if flag else 'unset'} | {cells} | {total:.1f} |")


if __name__ == "__main__":
    main()
