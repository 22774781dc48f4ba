"""What the training workflow costs against the seed's plain script, measured side by side in one run.

    python tests/bench_train.py [--project DIR] [--rounds N] [--samples N] [--batch-size N] [--epochs N]

In one project's .venv (bootstrapped here with uv unless --project names one), it runs the seed's script
and `python -m <package>.train experiment=seed` in interleaved pairs, N rounds, and prints:
  - wall time of each (medians), the ratio and the extra seconds;
  - peak memory (max RSS of each process, from wait4), medians and their ratio;
  - steady-state epoch time (median of epochs 2..10 over all rounds; the seed's script records it with
    a callback that only reads the clock, the template in metrics.json), and the ratio;
  - training throughput on --samples synthetic samples: the project's tf.data pipeline against
    `model.fit` on the same NumPy arrays, one warm-up epoch each, then --epochs epochs of each,
    alternating, and the median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from helpers import DEFAULT_PACKAGE, bake, env_with_uv

# The seed's script (the device list, the Dense(1) model on uniform random data, adam, mse, 10 epochs,
# batch 32, the kernel's device written the way that works on Keras 2 and 3), plus the epoch clock.
SEED_SCRIPT = textwrap.dedent(
    """
    import json, time
    import numpy as np
    import tensorflow as tf

    class EpochClock(tf.keras.callbacks.Callback):
        seconds = []
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    print(tf.config.list_physical_devices())
    x = np.random.rand(1000, 10)
    y = np.random.rand(1000, 1)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(10,))])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=10, batch_size=32, callbacks=[EpochClock()])
    kernel = model.layers[0].kernel
    print(getattr(kernel, "device", None) or kernel.value.device)
    print("EPOCH_SECONDS", json.dumps(EpochClock.seconds))
    """
)

THROUGHPUT_SCRIPT = textwrap.dedent(
    """
    import json, statistics, sys, time
    import tensorflow as tf
    from {package}.data import synthetic
    from {package}.runtime import pipelines

    samples, batch_size, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    prepared = synthetic.load(n_samples=samples, n_features=10, noise=0.1, validation_split=0.0, seed=0)
    pipeline, _ = pipelines.pipelines(prepared, batch_size, seed=0)

    class EpochClock(tf.keras.callbacks.Callback):  # the epoch alone, not fit's set-up around it
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.started

    def epoch_seconds(fit) -> float:
        clock = EpochClock()
        fit(clock)
        return clock.seconds

    def fresh():
        net = tf.keras.Sequential([tf.keras.Input(shape=(10,)), tf.keras.layers.Dense(1)])
        net.compile(optimizer="adam", loss="mse")
        return net

    numpy_net, pipeline_net = fresh(), fresh()
    fits = {{
        "numpy": lambda clock: numpy_net.fit(
            prepared.x, prepared.y, batch_size=batch_size, epochs=1, verbose=0, callbacks=[clock]
        ),
        "tf.data": lambda clock: pipeline_net.fit(pipeline, epochs=1, verbose=0, shuffle=False, callbacks=[clock]),
    }}
    for fit in fits.values():  # warm-up: the first epoch traces the step function
        fit(EpochClock())
    seconds = {{key: [] for key in fits}}
    for _ in range(rounds):  # one epoch each, alternating, so both see the same load
        for key, fit in fits.items():
            seconds[key].append(epoch_seconds(fit))
    rates = {{key: samples / statistics.median(values) for key, values in seconds.items()}}
    print("RATES", json.dumps(rates))
    """
)


def timed_process(command: list, cwd: Path) -> tuple:
    """(wall seconds, max RSS in MB, stdout) of one process, its own peak memory from wait4."""
    out = tempfile.TemporaryFile()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    text = out.read().decode()
    if process.returncode:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{text[-2000:]}")
    return wall, usage.ru_maxrss / 1024, text


def seed_vs_template(project: Path, rounds: int) -> dict:
    python = project / ".venv" / "bin" / "python"
    results = {"seed": [], "template": []}
    epochs = {"seed": [], "template": []}
    with tempfile.TemporaryDirectory() as runs:
        seed_file = Path(runs) / "seed_script.py"  # outside the project: it is not the project's code
        seed_file.write_text(SEED_SCRIPT, encoding="utf-8")
        for round_number in range(rounds):
            wall, rss, out = timed_process([python, seed_file], project)
            results["seed"].append((wall, rss))
            epochs["seed"] += json.loads(out.split("EPOCH_SECONDS", 1)[1])[1:]
            run_dir = Path(runs) / str(round_number)
            wall, rss, _ = timed_process(
                [python, "-m", f"{DEFAULT_PACKAGE}.train", "experiment=seed", f"hydra.run.dir={run_dir}"], project
            )
            results["template"].append((wall, rss))
            epochs["template"] += json.loads((run_dir / "metrics.json").read_text())["epoch_seconds"][1:]
    return {
        name: {
            "wall": statistics.median(w for w, _ in pairs),
            "rss": statistics.median(r for _, r in pairs),
            "epoch": statistics.median(epochs[name]),
        }
        for name, pairs in results.items()
    }


def throughput(project: Path, samples: int, batch_size: int, rounds: int) -> dict:
    script = THROUGHPUT_SCRIPT.format(package=DEFAULT_PACKAGE)
    _, _, out = timed_process(
        [project / ".venv" / "bin" / "python", "-c", script, str(samples), str(batch_size), str(rounds)], project
    )
    return json.loads(out.split("RATES", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a bootstrapped default project (else one is made)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs of each, for the throughput")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project
        if project is None:
            os.environ["PATH"] = env_with_uv()["PATH"]
            project = bake(Path(tmp), bootstrap="uv")
        m = seed_vs_template(project, args.rounds)
        rates = throughput(project, args.samples, args.batch_size, args.epochs)
    seed, template = m["seed"], m["template"]
    print(f"seed's script vs train experiment=seed, medians of {args.rounds} interleaved pairs:")
    print(
        f"  wall time    seed {seed['wall']:.2f} s | template {template['wall']:.2f} s | "
        f"{template['wall'] / seed['wall']:.3f}x, {template['wall'] - seed['wall']:+.2f} s"
    )
    print(
        f"  peak memory  seed {seed['rss']:.0f} MB | template {template['rss']:.0f} MB | "
        f"{template['rss'] / seed['rss']:.3f}x"
    )
    print(
        f"  epoch time   seed {seed['epoch'] * 1000:.1f} ms | template {template['epoch'] * 1000:.1f} ms | "
        f"{template['epoch'] / seed['epoch']:.3f}x (steady state: epochs 2-10)"
    )
    print(
        f"throughput on {args.samples:,} synthetic samples, batch {args.batch_size}: "
        f"tf.data pipeline {rates['tf.data']:,.0f} samples/s | model.fit on NumPy {rates['numpy']:,.0f} samples/s | "
        f"{rates['tf.data'] / rates['numpy']:.3f}x"
    )


if __name__ == "__main__":
    main()
