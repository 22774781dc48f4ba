"""The distribute group: its decisions with fakes; mirrored on two logical CPUs in this process; and two
real worker processes on localhost training together (marked `distributed`: skip with -m "not distributed")."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.runtime import build as models
from {{ cookiecutter.package_name }}.runtime import distribute, start_tensorflow
from {{ cookiecutter.package_name }}.runtime.accelerator import (
    CPU,
    PlacementError,
    assert_placement,
)
from {{ cookiecutter.package_name }}.runtime.distribute import Cluster, DistributeError
from {{ cookiecutter.package_name }}.runtime.stack import installed, load_stack
from {{ cookiecutter.package_name }}.train import RunError, train

PROJECT = Path(__file__).resolve().parents[1]
STACK = load_stack()
# Keras 3 before 3.8 sums the replicas' gradients of per-replica mean losses (distribute.py): refused.
SUMS_REPLICA_LOSSES = distribute.mirrored_keras_problem("mirrored", 2, installed("keras")) is not None


def config(name="multi_worker", workers=(), task_index=None, devices=None):
    return SimpleNamespace(name=name, workers=list(workers), task_index=task_index, devices=devices)


def tf_config(workers, task_type="worker", index=0, chief=()):
    cluster = {"worker": list(workers)} | ({"chief": list(chief)} if chief else {})
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})}


def test_the_cluster_comes_from_tf_config_first_then_from_the_config():
    workers = ["a:1", "b:2"]
    assert distribute.cluster(config(), tf_config(workers, index=1)) == Cluster(("a:1", "b:2"), 1)
    assert distribute.cluster(config(workers=["x:9"], task_index=0), tf_config(workers, index=1)).workers == (
        "a:1",
        "b:2",
    )
    assert distribute.cluster(config(workers=workers, task_index=0), {}) == Cluster(("a:1", "b:2"), 0)
    # a "chief" task comes first: it is worker 0, the one that writes the artifacts
    found = distribute.cluster(config(), tf_config(["b:2"], "worker", 0, chief=["a:1"]))
    assert found == Cluster(("a:1", "b:2"), 1) and not found.chief
    assert distribute.cluster(config(), tf_config(["b:2"], "chief", 0, chief=["a:1"])).chief
    assert distribute.cluster(config(name="mirrored"), tf_config(workers)) is None
    assert distribute.cluster(config(name="none"), {}) is None


def test_the_cluster_spec_round_trips_through_tf_config():
    found = Cluster(("localhost:1", "localhost:2"), 1)
    assert distribute.cluster(config(), {"TF_CONFIG": found.tf_config()}) == found


@pytest.mark.parametrize(
    ("cfg", "environ", "says"),
    [
        (config(), {}, "needs the cluster: set TF_CONFIG, or pass distribute.workers"),
        (config(workers=["a:1", "b:2"], task_index=2), {}, "distribute.task_index=2 is not a worker of the 2"),
        (config(workers=["a:1"], task_index=None), {}, "distribute.task_index=None is not a worker"),
        (config(), {"TF_CONFIG": "{not json"}, "TF_CONFIG is not a cluster spec"),
        (config(), tf_config(["a:1"], "ps", 0), "TF_CONFIG is not a cluster spec"),
        (config(), tf_config(["a:1"], "worker", 3), "TF_CONFIG=3 is not a worker of the 1"),
    ],
)
def test_a_cluster_that_cannot_run_is_refused_in_one_line(cfg, environ, says):
    with pytest.raises(DistributeError, match=re.escape(says)) as refused:
        distribute.cluster(cfg, environ)
    assert "\n" not in str(refused.value)


def test_keras_3_multi_worker_needs_tf_keras_of_the_same_tensorflow():
    problem = distribute.legacy_keras_problem
    assert problem("multi_worker", 2, "2.15.1", None) is None  # Keras 2 trains it itself
    assert problem("mirrored", 3, "2.16.2", None) is None  # Keras 3 fit works under MirroredStrategy
    assert problem("multi_worker", 3, "2.16.2", "2.16.0") is None
    missing = problem("multi_worker", 3, "2.19.1", None)
    assert "keras-team/keras#20585" in missing and "tf-keras is not installed" in missing
    assert "tf-keras 2.19.x" in missing and "`python3 bootstrap.py`, which installs" in missing
    assert "keras2-legacy" in missing and "distribute=mirrored" in missing
    assert "tf-keras 2.16.0 is installed, not 2.19.x" in problem("multi_worker", 3, "2.19.1", "2.16.0")


@pytest.mark.parametrize(
    ("name", "replicas", "keras", "refused"),
    [
        ("mirrored", 2, "3.6.0", True),  # the Apple Silicon pin of the Keras 3 stacks
        ("mirrored", 4, "3.7.0", True),  # 3.7 logs the loss of every replica, but still sums their gradients
        ("mirrored", 2, "3.8.0", False),
        ("mirrored", 2, "3.15.1", False),
        ("mirrored", 2, "2.15.0", False),  # Keras 2 (tf.keras) scales each replica's loss itself
        ("mirrored", 1, "3.6.0", False),  # one replica: nothing is summed (a Mac's one GPU)
        ("none", 1, "3.6.0", False),
        ("multi_worker", 2, "3.6.0", False),  # trains through tf-keras (Keras 2)
    ],
)
def test_mirrored_on_several_devices_is_refused_on_a_keras_that_sums_replica_losses(name, replicas, keras, refused):
    problem = distribute.mirrored_keras_problem(name, replicas, keras)
    assert (problem is not None) is refused
    if refused:
        assert f"distribute=mirrored on {replicas} devices: Keras {keras} sums" in problem
        assert f"{replicas}x the learning rate" in problem and "keras-team/keras#19891" in problem
        assert "distribute=none" in problem and "\n" not in problem


def two_cpus_mirrored(tf):
    """MirroredStrategy on the two logical CPUs, reducing through CPU:0 rather than with collective ops: two
    strategies with collective ops in one process reuse instance keys, and the second one's all-reduce
    aborts ("Shape mismatch in the collective instance"). The gradients are summed all the same."""
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())


def pretend_keras(monkeypatch, version):
    """The run reads the installed Keras from its metadata: make it read `version`."""
    real = start_tensorflow.installed
    monkeypatch.setattr(start_tensorflow, "installed", lambda name: version if name == "keras" else real(name))


def test_mirrored_on_listed_devices_is_refused_before_tensorflow_loads(compose_config, monkeypatch, tmp_path):
    pretend_keras(monkeypatch, "3.6.0")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # importing it now raises ImportError
    cfg = compose_config("experiment=debug", "device=cpu", "distribute=mirrored", "distribute.devices=[/cpu:0,/cpu:1]")
    with pytest.raises(DistributeError, match=r"on 2 devices: Keras 3\.6\.0 sums .* 2x the learning rate"):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.usefixtures("tf")
def test_mirrored_on_every_visible_device_is_refused_once_they_are_counted(tf, compose_config, monkeypatch, tmp_path):
    # a machine where distribute=mirrored (devices=null) finds two devices: two logical CPUs stand in for two GPUs
    monkeypatch.setattr(distribute, "build", lambda tf, cfg: two_cpus_mirrored(tf))
    pretend_keras(monkeypatch, "3.7.0")
    cfg = compose_config("experiment=debug", "device=cpu", "distribute=mirrored", "callbacks.tensorboard=false")
    with pytest.raises(DistributeError, match=r"on 2 devices: Keras 3\.7\.0 sums"):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "model.keras").exists() and not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.usefixtures("tf")
def test_the_refusal_matches_what_this_keras_computes_under_mirrored(tf):
    """The evidence, on the installed Keras: three full-batch SGD steps on two logical CPUs train exactly like
    one device, at the same learning rate on a Keras that is not refused and at twice it on one that is."""
    keras = models.keras
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) + 3).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(256)

    def weights_after(strategy, learning_rate):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            layers = [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)]
            model = keras.Sequential(layers)
            model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
        model.fit(batches, epochs=3, shuffle=False, verbose=0)
        return np.concatenate([np.ravel(weight.numpy()) for weight in model.weights])

    mirrored = weights_after(two_cpus_mirrored(tf), 0.01)
    one_device = {factor: weights_after(tf.distribute.get_strategy(), 0.01 * factor) for factor in (1, 2)}
    assert not np.allclose(one_device[1], one_device[2], rtol=1e-3)  # the two outcomes are told apart
    np.testing.assert_allclose(mirrored, one_device[2 if SUMS_REPLICA_LOSSES else 1], rtol=1e-5, atol=1e-6)


def test_the_environment_is_prepared_before_tensorflow_starts():
    environ = {}
    distribute.prepare_environment(config(), Cluster(("a:1", "b:2"), 1), 3, environ)
    assert json.loads(environ["TF_CONFIG"])["task"] == {"type": "worker", "index": 1}
    assert environ[distribute.LEGACY_KERAS] == "1"
    environ = {}
    distribute.prepare_environment(config(), Cluster(("a:1", "b:2"), 0), 2, environ)
    assert distribute.LEGACY_KERAS not in environ  # Keras 2 is tf.keras already
    environ = {}
    distribute.prepare_environment(config(name="mirrored"), None, 3, environ)
    assert environ == {}


@pytest.mark.parametrize(
    ("actual", "expected", "same"),
    [
        ("/job:localhost/replica:0/task:0/device:CPU:1", "/job:localhost/replica:0/task:0/device:CPU:1", True),
        ("/job:localhost/replica:0/task:0/device:CPU:1", "/cpu:1", True),
        ("/job:localhost/replica:0/task:0/device:CPU:0", "/cpu:1", False),
        ("/job:worker/replica:0/task:1/device:CPU:0", "/job:worker/replica:0/task:0/device:CPU:0", False),
        ("/job:localhost/replica:0/task:0/device:GPU:0", "/job:localhost/replica:0/task:0/device:CPU:0", False),
        ("", "/cpu:0", False),
    ],
)
def test_device_strings_are_compared_field_by_field(actual, expected, same):
    assert distribute.same_device(actual, expected) is same


def fake_variable(name, *devices, keras3=False):
    """A mirrored variable as Keras 2 shows it (.values on the variable) or Keras 3 (.values on .value)."""
    copies = tuple(SimpleNamespace(device=device) for device in devices)
    mirrored = SimpleNamespace(values=copies, device=devices[0])
    return SimpleNamespace(name=name, value=mirrored) if keras3 else SimpleNamespace(name=name, **vars(mirrored))


@pytest.mark.parametrize("keras3", [False, True])
def test_every_replica_copy_must_sit_on_its_own_device(keras3):
    replicas = ("/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:1")
    good = fake_variable("kernel", *replicas, keras3=keras3)
    swapped = fake_variable("bias", replicas[1], replicas[0], keras3=keras3)
    single = SimpleNamespace(name="lonely", device=replicas[0])
    assert distribute.misplaced_replicas([good], replicas) == []
    assert distribute.misplaced_replicas([good, swapped], replicas) == [
        ("bias", 0, replicas[1]),
        ("bias", 1, replicas[0]),
    ]
    assert distribute.misplaced_replicas([single], replicas) == [("lonely", "all", "1 copies for 2 replicas")]


def test_the_placement_assertion_names_a_replica_copy_off_its_device():
    replicas = ("/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:1")
    model = SimpleNamespace(trainable_variables=[fake_variable("kernel", replicas[0], replicas[0])])
    with pytest.raises(PlacementError, match="kernel of replica 1 is on .*CPU:0, expected one of"):
        assert_placement(None, model, CPU, replicas)


@pytest.mark.slow
@pytest.mark.usefixtures("tf")
@pytest.mark.skipif(SUMS_REPLICA_LOSSES, reason=f"Keras {installed('keras')} trains mirrored wrong: refused (above)")
def test_mirrored_on_two_logical_cpus_trains_like_one_device(tf, compose_config, tmp_path):
    """Two replicas, each half of every batch, gradients summed: the same training as one device, within
    float32 rounding (the sums run in another order). Full batches (256 training rows, one batch an epoch,
    128 per replica): the pipeline's per-epoch order cannot matter, and no uneven last batch is averaged
    per replica."""
    common = (
        "experiment=debug",
        "data.n_samples=320",
        "trainer.batch_size=256",
        "trainer.epochs=3",
        "callbacks.tensorboard=false",
        "loss_curve=false",
        "device=cpu",
    )
    single = train(compose_config(*common), tmp_path / "single")
    mirrored = train(
        compose_config(*common, "distribute=mirrored", "distribute.devices=[/cpu:0,/cpu:1]"), tmp_path / "mirrored"
    )
    assert mirrored["distribute"]["replicas"] == 2 and single["distribute"]["replicas"] == 1
    assert [device[-5:] for device in mirrored["distribute"]["devices"]] == ["CPU:0", "CPU:1"]
    np.testing.assert_allclose(mirrored["loss_history"], single["loss_history"], rtol=1e-4)
    np.testing.assert_allclose(mirrored["history"]["val_loss"], single["history"]["val_loss"], rtol=1e-4)
    assert (tmp_path / "mirrored" / "model.keras").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def uses_tf_keras() -> bool:
    return STACK.keras >= 3


@pytest.mark.slow
@pytest.mark.distributed  # right after bootstrap: on a Keras 3 stack it installed tf-keras (requirements-tf-keras.lock)
def test_two_workers_on_localhost_train_together_and_end_with_identical_weights(tmp_path):
    workers = f"[localhost:{free_port()},localhost:{free_port()}]"
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CONFIG", distribute.LEGACY_KERAS)}
    overrides = ["experiment=debug", "device=cpu", "distribute=multi_worker", f"distribute.workers={workers}"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "{{ cookiecutter.package_name }}.train", *overrides]
            + [f"distribute.task_index={index}", f"hydra.run.dir={tmp_path / f'worker{index}'}"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index in (0, 1)
    ]
    try:
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]

    chief, other = tmp_path / "worker0", tmp_path / "worker1"
    metrics = json.loads((chief / "metrics.json").read_text())
    assert metrics["distribute"]["strategy"] == "multi_worker" and metrics["distribute"]["task_index"] == 0
    assert metrics["distribute"]["replicas"] == 2 and metrics["distribute"]["legacy_keras"] == uses_tf_keras()
    assert metrics["epochs_run"] == 2 and (chief / "model.keras").exists() and (chief / "history.csv").exists()
    # the other worker trained the same weights, and left no artifact (only Hydra's own config and log)
    digests = [re.findall(r"Weights sha256 (\w+)", output) for output in outputs]
    assert digests == [[metrics["weights_sha256"]]] * 2
    assert sorted(path.name for path in other.iterdir()) == [".hydra", "train.log"]


@pytest.mark.skipif(not uses_tf_keras(), reason="a Keras 2 stack trains multi_worker with tf.keras itself")
def test_keras_3_without_tf_keras_refuses_multi_worker_in_one_line(compose_config, tmp_path, monkeypatch):
    def without_tf_keras(name):  # as if tf-keras were missing (bootstrap installs it on a Keras 3 stack)
        return None if name == "tf-keras" else installed(name)

    monkeypatch.setattr(start_tensorflow, "installed", without_tf_keras)
    cfg = compose_config("distribute=multi_worker", "distribute.workers=[localhost:1]", "distribute.task_index=0")
    with pytest.raises(DistributeError, match=r"keras-team/keras#20585.*tf-keras is not installed") as refused:
        train(cfg, tmp_path / "run")
    assert "\n" not in str(refused.value) and not (tmp_path / "run").exists()


def test_resume_is_refused_for_a_multi_worker_run(compose_config, tmp_path):
    cfg = compose_config(
        "distribute=multi_worker", "distribute.workers=[localhost:1]", "distribute.task_index=0", "resume=true"
    )
    with pytest.raises(RunError, match="resume=true with distribute=multi_worker is not supported"):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
