"""Which Keras releases train right under MirroredStrategy: the evidence behind the generated project's
refusal of distribute=mirrored on several devices with Keras 3 before 3.8.

    python tests/bisect_mirrored_keras.py [--project DIR] [--versions 3.6.0 3.7.0 ...]

Bakes the default project (or reads a baked one), builds a scratch venv from its Linux lock (TensorFlow
2.16.2), then for each Keras release installed over it trains the same model three full-batch SGD steps on
one device and with MirroredStrategy on two logical CPUs, and prints per release: the logged losses of
each, and which one-device run the mirrored weights equal (the same learning rate, or twice it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from helpers import bake, env_with_uv

VERSIONS = ["3.6.0", "3.7.0", "3.8.0", "3.9.2", "3.10.0", "3.11.0", "3.12.0", "3.13.0", "3.14.0", "3.15.1"]

PROBE = """
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf, keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
rng = np.random.default_rng(0)
x = rng.normal(size=(256, 8)).astype("float32")
y = (x @ rng.normal(size=(8, 1)) + 3).astype("float32")
batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(256)
def fit(strategy, learning_rate):
    keras.utils.set_random_seed(1)
    with strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    losses = model.fit(batches, epochs=3, shuffle=False, verbose=0).history["loss"]
    return losses, np.concatenate([np.ravel(w.numpy()) for w in model.weights])
mirrored = fit(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), 0.01)
one = {factor: fit(tf.distribute.get_strategy(), 0.01 * factor) for factor in (1, 2)}
equal = [factor for factor, run in one.items() if np.allclose(mirrored[1], run[1], rtol=1e-5, atol=1e-6)]
print(json.dumps({"keras": keras.__version__, "one_device": one[1][0], "mirrored": mirrored[0],
                  "mirrored_trains_like_lr_times": equal}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a baked default project (default: bake one)")
    parser.add_argument("--versions", nargs="+", default=VERSIONS)
    args = parser.parse_args()
    env = env_with_uv()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project or bake(Path(tmp))
        python = Path(tmp) / "venv" / "bin" / "python"
        for command in (
            ["uv", "venv", "-q", "--python", "3.11", Path(tmp) / "venv"],
            ["uv", "pip", "install", "-q", "--python", python, "--require-hashes", "-r", "requirements.lock"],
        ):
            subprocess.run([str(part) for part in command], cwd=project, env=env, check=True)
        print("keras    logged loss, one device     logged loss, mirrored (2 CPUs)  mirrored = one device at lr x")
        for version in args.versions:
            install = ["uv", "pip", "install", "-q", "--python", str(python), f"keras=={version}"]
            subprocess.run(install, env=env, check=True)
            out = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, check=True).stdout
            found = json.loads(out.strip().splitlines()[-1])
            losses = ("[" + ", ".join(f"{loss:.4f}" for loss in found[key]) + "]" for key in ("one_device", "mirrored"))
            print(f"{found['keras']:8} {next(losses):27} {next(losses):31} {found['mirrored_trains_like_lr_times']}")


if __name__ == "__main__":
    main()
