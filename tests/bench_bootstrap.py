"""Bootstrap speed, uv against pip, measured in one run.

    python tests/bench_bootstrap.py [--rounds N]

Bakes the default project, warms each installer's cache with one untimed bootstrap, then times
`python bootstrap.py --installer uv|pip` into a fresh .venv N times each (venv + locked stack + project
+ the closing doctor) and prints the medians side by side. Both installers write bytecode (pip by default,
uv with bootstrap's --compile-bytecode), so the doctor's TensorFlow import costs both the same.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers import bake, env_with_uv


def bootstrap_seconds(project: Path, installer: str) -> float:
    shutil.rmtree(project / ".venv", ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "bootstrap.py", "--installer", installer],
        cwd=project,
        env=env_with_uv(),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        project = bake(Path(tmp))
        times = {}
        for installer in ("uv", "pip"):
            bootstrap_seconds(project, installer)  # warm the cache
            times[installer] = statistics.median(bootstrap_seconds(project, installer) for _ in range(rounds))
    print(
        f"bootstrap with a warm cache, median of {rounds}: "
        f"uv {times['uv']:.1f} s | pip {times['pip']:.1f} s | pip/uv {times['pip'] / times['uv']:.1f}x"
    )


if __name__ == "__main__":
    main()
