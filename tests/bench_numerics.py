"""What the numerics check costs a default training run, measured in one run.

    python tests/bench_numerics.py [--rounds N] [--stack ID | --project DIR]

Bakes and bootstraps the default project (with --stack, on that stack: e.g. keras-torch; or uses a
bootstrapped one given by --project), then runs `python -m <package>.train` at the default settings with the
check off and on, interleaved N times, and prints the median wall times side by side, their ratio, and the
check's own time from metrics.json. Off an accelerator the check compares the CPU with a second logical CPU
(TensorFlow) or the CPU with itself (torch, which has no second logical CPU): the same work it does on a Mac.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from helpers import DEFAULT_PACKAGE, bake_cli, env_with_uv


def timed_run(project: Path, run_dir: Path, check: str) -> tuple:
    started = time.perf_counter()
    subprocess.run(
        [
            project / ".venv" / "bin" / "python",
            "-m",
            f"{DEFAULT_PACKAGE}.train",
            "device=cpu",
            f"device.check_numerics={check}",
            "trainer.verbose=0",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=project,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return wall, metrics["wall_time_seconds"], metrics["numerics"].get("seconds", 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stack", help="the stack to bake the project with (default: the template's default)")
    parser.add_argument("--project", type=Path, help="a bootstrapped default project (default: bake one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project
        if project is None:
            stack = [f"tensorflow_stack={args.stack}"] if args.stack else []
            bake_cli(Path(tmp), "bootstrap=uv", *stack, env=env_with_uv())
            project = Path(tmp) / "keras-metal-project"
        runs = {"false": [], "true": []}
        for round_ in range(args.rounds):
            for check in runs:
                runs[check].append(timed_run(project, Path(tmp) / f"run-{check}-{round_}", check))
    wall_off, wall_on = (statistics.median(run[0] for run in runs[check]) for check in ("false", "true"))
    fit = statistics.median(run[1] for run in runs["true"])
    check_seconds = statistics.median(run[2] for run in runs["true"])
    on_stack = f" ({args.stack})" if args.stack else ""
    print(
        f"default run{on_stack}, median of {args.rounds} interleaved: check off {wall_off:.2f} s | "
        f"check on {wall_on:.2f} s | on/off {wall_on / wall_off:.2f}x | the check itself {check_seconds:.2f} s "
        f"({check_seconds / wall_on:.0%} of the run; fitting {fit:.2f} s)"
    )


if __name__ == "__main__":
    main()
