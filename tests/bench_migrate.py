"""Measure the migration analysis on generated legacy trees of 200 and 2,000 Python files.

    python tests/bench_migrate.py [--runs 3]

Bakes the template (no set-up), imports the generated package from its src/, writes trees that mix
TF1 graph code, Keras 2.4 code and clean Keras 3 code (plus a requirements.txt), and times the
analysis (reading, ast findings, dependencies, recommendation) in this process. The uv resolution
check is left out: it is one network-bound call whatever the size of the tree. Median of --runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from helpers import DEFAULT_PACKAGE, bake

TEMPLATES = [
    # TF1 graph mode
    "import tensorflow as tf\n\n\ndef model_{i}(x):\n    w = tf.get_variable('w{i}', shape=[10, 1])\n"
    "    with tf.Session() as sess:\n        sess.run(tf.global_variables_initializer())\n"
    "    return tf.matmul(x, w)\n",
    # Keras 2.4
    "from keras.layers import CuDNNLSTM, Dense\nfrom keras.models import Sequential\n"
    "from keras.optimizers import Adam\n\n\n"
    "def build_{i}():\n    model = Sequential([CuDNNLSTM(32), Dense(1)])\n"
    "    model.compile(optimizer=Adam(lr=1e-3), loss='mse')\n    return model\n\n\n"
    "def train_{i}(model, data):\n    model.fit_generator(data, steps_per_epoch=10, workers=4)\n"
    "    model.save('model_{i}.h5')\n",
    # clean Keras 3
    "import keras\nfrom keras import layers\n\n\ndef build_{i}(n: int) -> keras.Model:\n"
    "    inputs = keras.Input(shape=(n,))\n    outputs = layers.Dense(1)(layers.Dense(32, activation='relu')(inputs))\n"
    "    model = keras.Model(inputs, outputs)\n"
    "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss='mse')\n    return model\n",
]


def write_tree(root: Path, files: int) -> None:
    for i in range(files):
        package = root / f"package_{i // 100}"
        package.mkdir(parents=True, exist_ok=True)
        padding = "".join(f"\n\ndef helper_{i}_{j}(value):\n    return value * {j}\n" for j in range(10))
        (package / f"module_{i}.py").write_text(TEMPLATES[i % len(TEMPLATES)].format(i=i) + padding)
    (root / "requirements.txt").write_text("tensorflow-gpu==2.4.1\nkeras==2.4.3\nnumpy==1.19.5\nh5py==2.10.0\n")


def measure(analyse, root: Path, runs: int) -> tuple:
    times, findings = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        analysis = analyse(root, check_requirements=False)
        times.append(time.perf_counter() - start)
        findings = len(analysis.findings)
    return statistics.median(times), findings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = bake(Path(folder) / "project")
        sys.path.insert(0, str(project / "src"))
        analyse = __import__(f"{DEFAULT_PACKAGE}.migrate.analysis", fromlist=["analyse"]).analyse
        results = {}
        for files in (200, 2000):
            root = Path(folder) / f"legacy-{files}"
            write_tree(root, files)
            results[files] = measure(analyse, root, args.runs)
        for files, (seconds, findings) in results.items():
            print(f"{files:5d} files: {seconds:6.2f} s  ({1000 * seconds / files:.2f} ms/file, {findings} findings)")
        print(f"2000 vs 200 files: {results[2000][0] / results[200][0]:.1f}x the time for 10x the files")


if __name__ == "__main__":
    main()
