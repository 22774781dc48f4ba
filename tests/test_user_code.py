"""The user's own model and data, exactly as the generated README's "Your own model" and "Your own data"
write them: one .py and one .yaml each, added to a copy of the bootstrapped project with nothing else
changed, then trained for real (placement asserted, numerics checked, a sweep, a SIGKILL and a resume, the
bench, a reload of model.keras). And `_target_`s that cannot make a model or data, refused in one line.

The copy runs on the shared project's .venv: PYTHONPATH puts the copy's src/ before the editable install.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import DEFAULT_PACKAGE, run

pytestmark = pytest.mark.network  # the shared bootstrapped project (a real stack)

PKG = DEFAULT_PACKAGE
# Few TensorFlow processes: one sweep of both models, a killed run and its resume and a bench per model, one reload.
QUICK = ["trainer.epochs=3", "callbacks.tensorboard=false", "loss_curve=false", "device.check_numerics=true"]


def readme_files(readme: str) -> dict:
    """{path: text} of the README's code blocks whose first line is a `# src/...` path comment."""
    blocks = re.findall(r"```(?:python|yaml)\n(# (src/\S+)\n.*?)```", readme, flags=re.S)
    return {path: text for text, path in blocks}


def tree_digest(root: Path) -> dict:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def copy_of(bootstrapped: Path, into: Path) -> Path:
    ignore = shutil.ignore_patterns(".venv", "outputs", "multirun", "__pycache__", ".pytest_cache")
    return Path(shutil.copytree(bootstrapped, into / "project", ignore=ignore))


def python_in(bootstrapped: Path, project: Path):
    env = dict(os.environ, PYTHONPATH=str(project / "src"), PYTHONDONTWRITEBYTECODE="1")
    python = bootstrapped / ".venv" / "bin" / "python"
    return [python], env


@pytest.fixture(scope="module")
def user_project(bootstrapped, tmp_path_factory):
    """A copy of the bootstrapped project plus the README's model and data files, and a table for the loader."""
    project = copy_of(bootstrapped, tmp_path_factory.mktemp("user-code"))
    before = tree_digest(project)
    files = readme_files((project / "README.md").read_text(encoding="utf-8"))
    assert sorted(files) == sorted(
        f"src/{PKG}/{name}"
        for name in (
            "models/residual.py",
            "conf/model/residual.yaml",
            "models/gated.py",
            "conf/model/gated.yaml",
            "data/readings.py",
            "conf/data/readings.yaml",
        )
    )
    for path, text in files.items():
        assert not (project / path).exists(), f"{path} would replace a project file"
        (project / path).write_text(text, encoding="utf-8")
    rows = [[i / 10, (i % 7) / 7, ((3 * i) % 11) / 11] for i in range(200)]
    table = project.parent / "readings.txt"
    table.write_text("".join(f"{a} {b} {c} {2 * a - b + 0.5 * c + 1}\n" for a, b, c in rows), encoding="utf-8")
    digest = tree_digest(project)
    assert {name: value for name, value in digest.items() if name not in files} == before, "a project file changed"
    return project, table


def sweep_both_models_on_the_users_loader(project: Path, table: Path, python: list, env: dict) -> Path:
    """One process, two jobs: each model trains on the user's loader, placement asserted, numerics checked."""
    sweep = project.parent / "sweep"
    command = [*python, "-m", f"{PKG}.train", "-m", "model=residual,gated", "data=readings", f"data.path={table}"]
    result = run([*command, *QUICK, f"hydra.sweep.dir={sweep}"], cwd=project, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    for job in ("0", "1"):
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        assert metrics["device"] == "cpu" and metrics["device_string"].endswith("CPU:0")  # placement asserted
        assert metrics["numerics"]["ran"] and metrics["numerics"]["passed"], metrics["numerics"]
        assert (metrics["task"], metrics["n_train"], metrics["n_validation"]) == ("regression", 160, 40)
        assert metrics["loss_history"][-1] < metrics["loss_history"][0], "the user's model learns"
    with (sweep / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["overrides"].split()[0] for row in rows) == ["model=gated", "model=residual"]
    assert {row["status"] for row in rows} == {"finished"}
    return sweep


def logged_epochs(run_dir: Path) -> list:
    try:
        return json.loads((run_dir / "backup" / "epochs.json").read_text())
    except (OSError, ValueError):
        return []


def killed_then_resumed(model: str, project: Path, python: list, env: dict) -> Path:
    """A run of the user's model killed with SIGKILL after two epochs, then resumed with the same command."""
    run_dir = project.parent / f"killed-{model}"
    # big enough that an epoch takes a noticeable time, so the kill lands between epochs 2 and 5
    killable = [*python, "-m", f"{PKG}.train", f"model={model}", "data.n_samples=20000", "trainer.epochs=5", *QUICK[1:]]
    process = subprocess.Popen(
        [*killable, f"hydra.run.dir={run_dir}"], cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 300
        while len(logged_epochs(run_dir)) < 3:  # so the backup holds at least two
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the run never finished two epochs"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL and not (run_dir / "metrics.json").exists()
    resumed = run([*killable, "resume=true", f"hydra.run.dir={run_dir}"], cwd=project, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] >= 2 and len(metrics["loss_history"]) == 5, model
    assert metrics["numerics"]["passed"] and metrics["device"] == "cpu"
    return run_dir


def test_the_users_models_and_loader_sweep_resume_after_sigkill_bench_and_reload(bootstrapped, user_project):
    project, table = user_project
    python, env = python_in(bootstrapped, project)
    sweep = sweep_both_models_on_the_users_loader(project, table, python, env)

    resumed = [killed_then_resumed(model, project, python, env) for model in ("gated", "residual")]
    for model in ("residual", "gated"):
        bench = run(
            [*python, "-m", f"{PKG}.bench", f"model={model}", "experiment=debug", "--epochs", "1", "--json"],
            cwd=project,
            env=env,
        )
        assert bench.returncode == 0, bench.stderr[-3000:]
        rows = json.loads(bench.stdout)["rows"]
        assert rows[0]["device"] == "cpu" and rows[0]["samples_per_second"] > 0, model

    # model.keras reloads where the user's modules are importable (the subclass is registered by its import),
    # and it is the trained model: its validation loss is the one the sweep recorded
    reload = f"""
import json, sys
import numpy as np
from tensorflow import keras
from {PKG}.data.readings import load
from {PKG}.models import gated  # registers GatedMLP

prepared = load(sys.argv[1], seed=42)
x, y = prepared.x[prepared.validation_index], prepared.y[prepared.validation_index]
for run_dir in sys.argv[2:4]:  # the sweep's jobs, on the user's data: the mean squared error
    model = keras.models.load_model(run_dir + "/model.keras")
    print(json.dumps([type(model).__name__, float(np.mean((model.predict(x, verbose=0) - y) ** 2))]))
for run_dir in sys.argv[4:]:  # the resumed runs, on synthetic data
    model = keras.models.load_model(run_dir + "/model.keras")
    outputs = model.predict(np.random.default_rng(0).random((4, 10), dtype=np.float32), verbose=0)
    print(json.dumps([type(model).__name__, list(outputs.shape), bool(np.isfinite(outputs).all())]))
"""
    jobs = [sweep / "0", sweep / "1"]
    result = run([*python, "-c", reload, table, *jobs, *resumed], cwd=project, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    reloaded = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(kind for kind, _ in reloaded[:2]) == ["Functional", "GatedMLP"]
    assert reloaded[2:] == [["GatedMLP", [4, 1], True], ["Functional", [4, 1], True]]
    for (kind, mse), job in zip(reloaded[:2], jobs, strict=True):
        recorded = json.loads((job / "metrics.json").read_text())
        assert mse == pytest.approx(recorded["final_val_loss"], rel=1e-4), (kind, job)


def add_entry(project: Path, path: str, text: str) -> None:
    (project / path).write_text(text, encoding="utf-8")


def refusal(command: list, project: Path, env: dict) -> str:
    result = run(command, cwd=project, env=env)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_targets_that_cannot_make_a_model_or_data_are_refused_in_one_line(bootstrapped, tmp_path):
    project = copy_of(bootstrapped, tmp_path)
    python, env = python_in(bootstrapped, project)
    add_entry(project, f"src/{PKG}/conf/model/nowhere.yaml", f"_target_: {PKG}.models.nowhere.build\n")
    add_entry(project, f"src/{PKG}/conf/data/module.yaml", f"_target_: {PKG}.data.npz\n")
    add_entry(project, f"src/{PKG}/conf/model/no_model.yaml", "_target_: builtins.dict\n")
    train = [*python, "-m", f"{PKG}.train", f"hydra.run.dir={tmp_path / 'run'}"]

    # before TensorFlow's import: the module is not there; a module is no callable
    line = refusal([*train, "model=nowhere"], project, env)
    assert line == (
        f"error: conf/model/nowhere.yaml: _target_ {PKG}.models.nowhere.build cannot be imported: "
        f"no module '{PKG}.models.nowhere'."
    )
    line = refusal([*train, "data=module"], project, env)
    assert line == f"error: conf/data/module.yaml: _target_ {PKG}.data.npz is a module, not a callable."
    # after it: what the callable returned is not a Keras model
    line = refusal([*train, "model=no_model"], project, env)
    assert line == "error: conf/model/no_model.yaml: _target_ builtins.dict returned a dict, not a Keras model " + (
        "(Sequential, functional, or a subclass of keras.Model)."
    )
    assert not (tmp_path / "run" / "metrics.json").exists()
