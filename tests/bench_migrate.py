"""Measure the migration analysis: its recall per API family, and its time on 200 and 2,000 files.

    python tests/bench_migrate.py [--runs 3]

Bakes the template (no set-up) and imports the generated package from its src/. Recall: a corpus of
legacy idioms, one small file (or notebook) per spelling of each API family that TensorFlow 2.16 /
Keras 3 no longer have (every way of importing it: `tf.x`, `from tensorflow import x`, aliases, ...),
plus clean Keras 3 files; per family it prints how many files got a finding that is an error on the
default Keras 3 stack, and how many findings the clean files got (false ones), then the same for the
legacy fixtures of the generated tests. Speed: trees that mix TF1 graph code, Keras 2.4 code and clean
Keras 3 code (plus a requirements.txt), analysed in this process (reading, ast findings, API lookups,
dependencies, recommendation). The uv resolution check is left out: it is one network-bound call
whatever the size of the tree. Median of --runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from helpers import DEFAULT_PACKAGE, LEGACY_FIXTURES, bake

TF = "import tensorflow as tf\n"
K = "from keras import backend as K\n"
# Each family: the spellings a legacy file uses it with (x, y, model, p: any names; the analysis is static).
FAMILIES = {
    "tf.layers": [TF + "y = tf.layers.dense(x, 1)\n", "import tensorflow\ny = tensorflow.layers.conv2d(x, 8, 3)\n",
                  "from tensorflow import layers\ny = layers.dense(x, 1)\n"],
    "tf.compat.v1.layers": [TF + "y = tf.compat.v1.layers.dense(x, 1)\n",
                            "import tensorflow.compat.v1 as tf\ny = tf.layers.dense(x, 1)\n",
                            "from tensorflow.compat.v1 import layers\ny = layers.max_pooling2d(x, 2, 2)\n"],
    "tf.estimator": [TF + "e = tf.estimator.Estimator(model_fn=f)\n",
                     "from tensorflow import estimator\ne = estimator.LinearRegressor([])\n",
                     TF + "spec = tf.estimator.EstimatorSpec(mode, loss=loss)\n"],
    "tf.train.Saver": [TF + "saver = tf.train.Saver()\n", "from tensorflow.train import Saver\nsaver = Saver()\n",
                       "import tensorflow as t\nt.train.Saver(max_to_keep=2).save(s, p)\n"],
    "tf.summary.FileWriter": [TF + "w = tf.summary.FileWriter(p)\n",
                              "from tensorflow.summary import FileWriter\nw = FileWriter(p)\n"],
    "tf.gfile": [TF + "ok = tf.gfile.Exists(p)\n", TF + "f = tf.gfile.GFile(p)\n",
                 "from tensorflow import gfile\nfiles = gfile.ListDirectory(p)\n"],
    "tf.arg_max": [TF + "i = tf.arg_max(y, 1)\n", TF + "i = tf.arg_min(y, 1)\n"],
    "tensorflow.examples.tutorials": ["from tensorflow.examples.tutorials.mnist import input_data\n",
                                      "import tensorflow.examples.tutorials.mnist.input_data as input_data\n"],
    "keras.backend dropped in Keras 3": [K + "v = K.variable(1.0)\n", K + "y = K.gather(x, 0)\n",
                                         "import keras.backend as K\nn = K.shape(x)[0]\n",
                                         "from keras.backend import placeholder\n", K + "y = K.batch_flatten(x)\n"],
    "K.get_session / set_session": [K + "s = K.get_session()\n", "import keras\nkeras.backend.set_session(s)\n"],
    "multi_gpu_model": ["from keras.utils import multi_gpu_model\n",
                        "from keras.utils.training_utils import multi_gpu_model\n",
                        "import keras\nm = keras.utils.multi_gpu_model(model, 2)\n"],
    "keras.utils.vis_utils": ["from keras.utils.vis_utils import plot_model\n", "import keras.utils.vis_utils\n"],
    "tf.contrib": [TF + "slim = tf.contrib.slim\n", "import tensorflow.contrib.slim as slim\n"],
    "TF1 session in a notebook": ["notebook"],
}  # fmt: skip
CLEAN = [
    "import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\nmodel.compile(optimizer=keras.optimizers.Adam())",
    "import tensorflow as tf\nx = tf.io.gfile.glob('*')\ni = tf.math.argmax([1.0, 2.0])\nckpt = tf.train.Checkpoint()",
    "from tensorflow.keras import backend as K\ny = K.gather([1, 2], 0)\n",
    "import keras\nfrom keras import ops\ny = ops.take([1, 2], 0)\nkeras.utils.plot_model\n",
]
PADDING = "\n\ndef helper_{i}(value):\n    return value * {i}\n"


def notebook(i: int) -> str:
    cells = ["%matplotlib inline\nimport tensorflow as tf\n", "x = 1\n" * (i % 3), f"!ls\nsess_{i} = tf.Session()\n"]
    code = [{"cell_type": "code", "metadata": {}, "outputs": [], "source": cell} for cell in cells]
    return json.dumps({"cells": code, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})


def write_corpus(root: Path, per_family: int) -> dict:
    """Files using each family (spellings in turn, padded differently), and clean files: {family: [paths]}."""
    corpus = {}
    for f, (family, spellings) in enumerate([*FAMILIES.items(), ("clean Keras 3", CLEAN)]):
        corpus[family] = []
        for i in range(per_family):
            spelling = spellings[i % len(spellings)]
            name = f"family_{f}/file_{i}" + (".ipynb" if spelling == "notebook" else ".py")
            text = notebook(i) if spelling == "notebook" else spelling + PADDING.format(i=i) * (i % 4)
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
            corpus[family].append(name)
    return corpus


def recall(package, root: Path, per_family: int, runs: int) -> None:
    corpus = write_corpus(root, per_family)
    analyse = package.analysis.analyse
    seconds, _ = measure(analyse, root, runs)
    analysis = analyse(root, check_requirements=False)
    keras3, hits = analysis.own_stack, analysis.hits  # the default project's stack: Keras 3
    errors = {f.path for f in package.codes.judge(hits, 3, keras3) if f.severity == "error"}
    findings = package.codes.judge(hits, 3, keras3)
    print(f"recall on {sum(map(len, corpus.values()))} legacy idiom files, judged for {keras3} ({seconds:.2f} s):")
    print(f"  {'API family':34s} {'files':>5s} {'found':>5s} {'false':>5s}")
    for family, paths in corpus.items():
        found = sum(path in errors for path in paths)
        false = sum(f.path in paths for f in findings) if family == "clean Keras 3" else 0
        print(
            f"  {family:34s} {len(paths):5d} {found:5d} {false:5d}"
            + ("" if family == "clean Keras 3" else f"  {100 * found / len(paths):.0f}%")
        )
    print("legacy fixtures of the generated tests (findings judged for the recommended stack):")
    for fixture in sorted(p for p in LEGACY_FIXTURES.iterdir() if p.is_dir()):
        analysis = analyse(fixture, check_requirements=False)
        found = f"{analysis.files:3d} files {len(analysis.findings):3d} findings"
        print(f"  {fixture.name:34s} {found} -> {analysis.stack_id}")


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
    parser.add_argument("--per-family", type=int, default=20, help="legacy idiom files per API family")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = bake(Path(folder) / "project")
        sys.path.insert(0, str(project / "src"))
        package = __import__(f"{DEFAULT_PACKAGE}.migrate", fromlist=["analysis", "codes"])
        recall(package, Path(folder) / "idioms", args.per_family, args.runs)
        analyse = package.analysis.analyse
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
