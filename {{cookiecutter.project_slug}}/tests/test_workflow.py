"""Resume after a real SIGKILL, a sweep with its summary (and a failing job), the bench, and the seed's own checks."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }} import bench
from {{ cookiecutter.package_name }}.runtime import backend, resume
from {{ cookiecutter.package_name }}.runtime.artifacts import RunError
from {{ cookiecutter.package_name }}.runtime.callbacks import kill_safe_backup
from {{ cookiecutter.package_name }}.runtime.summary import collect
from {{ cookiecutter.package_name }}.train import main

PROJECT = Path(__file__).resolve().parents[1]
# Big enough that an epoch takes a noticeable time, so the kill lands between epochs 2 and 5.
# The numerics check runs before fitting on the fresh and on the resumed run (the CPU against a second one).
KILLABLE = [
    "experiment=debug",
    "data.n_samples=20000",
    "trainer.epochs=5",
    "callbacks.tensorboard=false",
    "device.check_numerics=true",
]
pytestmark = pytest.mark.usefixtures("tf")  # TensorFlow (if the stack has it) first imported by the fixture


def run_cli(monkeypatch, *overrides):
    monkeypatch.setattr(sys, "argv", ["train", *overrides])
    main()


def logged_epochs(run_dir: Path) -> list:
    try:
        return json.loads((run_dir / "backup" / "epochs.json").read_text())
    except (OSError, ValueError):
        return []


@pytest.mark.slow
def test_resume_continues_a_run_killed_with_sigkill(monkeypatch, tmp_path):
    command = [
        sys.executable,
        "-m",
        "{{ cookiecutter.package_name }}.train",
        *KILLABLE,
        f"hydra.run.dir={tmp_path}",
    ]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while len(logged_epochs(tmp_path)) < 3:  # so the backup holds at least two
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the run never finished two epochs"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    before = logged_epochs(tmp_path)
    assert not (tmp_path / "metrics.json").exists() and 3 <= len(before) < 5

    # nothing but the run dir: the run's own config (5 epochs of 20000 samples, not the defaults) goes on
    run_cli(monkeypatch, "resume=true", "trainer.verbose=0", f"hydra.run.dir={tmp_path}")

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["n_train"] + metrics["n_validation"] == 20000
    assert OmegaConf.load(tmp_path / ".hydra" / "overrides.yaml") == KILLABLE  # the original record, kept
    assert OmegaConf.load(tmp_path / ".hydra" / "resume-overrides.yaml") == [["resume=true", "trainer.verbose=0"]]
    assert metrics["numerics"]["ran"] and metrics["numerics"]["passed"]
    # the epoch log is written just before the backup: a kill between them costs that one epoch
    assert len(before) - 1 <= metrics["resumed_from_epoch"] <= len(before)
    assert len(metrics["loss_history"]) == metrics["epochs"] == 5
    kept = before[: metrics["resumed_from_epoch"]]
    assert metrics["loss_history"][: len(kept)] == [entry["loss"] for entry in kept]
    with (tmp_path / "history.csv").open() as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == [0, 1, 2, 3, 4]


def test_a_resume_that_would_change_the_model_or_data_is_refused_and_touches_nothing(
    monkeypatch, capsys, compose_config, tmp_path
):
    (tmp_path / ".hydra").mkdir()
    OmegaConf.save(compose_config("experiment=debug"), tmp_path / ".hydra" / "config.yaml")
    (tmp_path / ".hydra" / "overrides.yaml").write_text("- experiment=debug\n")
    before = {path: path.read_bytes() for path in (tmp_path / ".hydra").iterdir()}
    refused = ("resume=true", "model=mlp", "data.n_samples=5", "trainer.epochs=3", f"hydra.run.dir={tmp_path}")
    with pytest.raises(SystemExit) as stopped:
        run_cli(monkeypatch, *refused)
    assert stopped.value.code == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: resume=true continues the run in ") and "\n" not in error
    assert "model=mlp, data.n_samples=5 would change its model or data" in error and "trainer.epochs" not in error
    assert {path: path.read_bytes() for path in (tmp_path / ".hydra").iterdir()} == before  # the run's record
    assert sorted(path.name for path in tmp_path.iterdir()) == [".hydra", "train.log"]  # Hydra's log, no output


def test_a_backup_killed_while_it_writes_leaves_the_last_one_whole(tmp_path):
    """Keras 3 before 3.7 (the Mac pin) writes its backup in place: a kill in the middle would leave a torn
    weights file that no resume loads. The project's backup writes under other names and moves them."""

    class WrittenInPlace:  # Keras 3.6's BackupAndRestore, as far as saving goes
        def __init__(self, backup_dir):
            self.backup_dir, self.killed = backup_dir, False
            self._weights_path = f"{backup_dir}/latest.weights.h5"
            self._training_metadata_path = f"{backup_dir}/training_metadata.json"

        def _save_model(self):
            Path(self._weights_path).write_text("torn" if self.killed else "whole")
            if self.killed:
                raise KeyboardInterrupt  # the kill, mid-write
            Path(self._training_metadata_path).write_text('{"epoch": 1}')

    backup = kill_safe_backup(WrittenInPlace, str(tmp_path))
    backup._save_model()
    backup.killed = True
    with pytest.raises(KeyboardInterrupt):
        backup._save_model()
    assert (tmp_path / "latest.weights.h5").read_text() == "whole"
    assert (tmp_path / "training_metadata.json").read_text() == '{"epoch": 1}'


def test_a_resume_may_repeat_the_runs_own_overrides(compose_config, tmp_path):
    """A job script passes the same command again with resume=true: the same model and data are no change."""
    given = ["experiment=debug", "model=mlp", "data.n_samples=300"]
    (tmp_path / ".hydra").mkdir()
    OmegaConf.save(compose_config(*given), tmp_path / ".hydra" / "config.yaml")
    again = [*given, "trainer.verbose=0"]
    config = resume.resumed_config(tmp_path, compose_config(*again, "resume=true"), [*again, "resume=true"])
    assert config.model.hidden_units and config.data.n_samples == 300 and config.trainer.verbose == 0
    with pytest.raises(RunError, match="data.n_samples=301 would change its model or data"):
        changed = [*given[:2], "data.n_samples=301"]
        resume.resumed_config(tmp_path, compose_config(*changed), changed)


def test_a_sweep_ends_with_a_summary_of_its_jobs_best_first(monkeypatch, tmp_path):
    sweep = ["-m", "experiment=debug", "optimizer=adam,sgd", "seed=3"]
    run_cli(monkeypatch, *sweep, f"hydra.sweep.dir={tmp_path}")

    for job in ("0", "1"):
        assert (tmp_path / job / "metrics.json").exists() and (tmp_path / job / "model.keras").exists()
    with (tmp_path / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["overrides"] for row in rows) == [
        "experiment=debug optimizer=adam seed=3",
        "experiment=debug optimizer=sgd seed=3",
    ]
    losses = [float(row["final_val_loss"]) for row in rows]
    assert losses == sorted(losses) and all(row["device"] and float(row["wall_time_seconds"]) > 0 for row in rows)
    assert {"final_loss", "final_mae", "final_val_mae"} <= set(rows[0])
    markdown = (tmp_path / "summary.md").read_text().splitlines()
    assert markdown[0].startswith("| job | overrides | status | final_loss | final_val_loss") and len(markdown) == 4


def test_a_failing_job_gets_its_row_the_sweep_goes_on_and_exits_1_naming_it(monkeypatch, tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{2 * i + 1}\n" for i in range(60)))
    sweep_dir = tmp_path / "sweep"
    # the refused job first: the sweep must go on to the next one
    sweep = ("-m", "experiment=debug", "data=csv", f"data.path={table}", "data.target=nope,y")
    with pytest.raises(SystemExit) as stopped:
        run_cli(monkeypatch, *sweep, "callbacks.tensorboard=false", f"hydra.sweep.dir={sweep_dir}")

    message = str(stopped.value.code)
    assert message.startswith("error: 1 of 2 jobs of the sweep failed: job 0 (") and "data.target=nope" in message
    assert "\n" not in message and (sweep_dir / "1" / "model.keras").exists()
    with (sweep_dir / "summary.csv").open() as handle:
        rows = {row["job"]: row for row in csv.DictReader(handle)}
    assert rows["0"]["status"] == "failed" and "'nope'" in rows["0"]["error"] and rows["0"]["error"] in message
    assert rows["1"]["status"] == "finished" and rows["1"]["error"] == "" and float(rows["1"]["final_loss"]) > 0
    markdown = (sweep_dir / "summary.md").read_text().splitlines()
    assert markdown[0].endswith("| error |") and markdown[-1].startswith("| 0 |") and "| failed |" in markdown[-1]


def test_an_unexpected_error_in_a_sweep_job_is_logged_and_summarised_too(monkeypatch, tmp_path):
    from {{ cookiecutter.package_name }} import train as train_module

    def broken(cfg, output_dir):
        raise ZeroDivisionError(f"seed {cfg.seed}\nand a second line")

    monkeypatch.setattr(train_module, "train", broken)
    with pytest.raises(SystemExit) as stopped:
        run_cli(monkeypatch, "-m", "seed=1,2", f"hydra.sweep.dir={tmp_path}")
    assert str(stopped.value.code).startswith("error: 2 of 2 jobs of the sweep failed: job 0 (seed=1): ")
    with (tmp_path / "summary.csv").open() as handle:
        rows = {row["job"]: row for row in csv.DictReader(handle)}
    assert [rows[job]["error"] for job in ("0", "1")] == ["ZeroDivisionError: seed 1", "ZeroDivisionError: seed 2"]
    assert "Traceback" in (tmp_path / "0" / "train.log").read_text()  # the whole story stays in the job's log


def test_the_summary_ranks_unfinished_jobs_last(tmp_path):
    for job, metrics in (("0", {"final_loss": 2.0}), ("1", None), ("2", {"final_loss": 0.5})):
        (tmp_path / job / ".hydra").mkdir(parents=True)
        (tmp_path / job / ".hydra" / "overrides.yaml").write_text(f"- seed={job}\n")
        if metrics:
            (tmp_path / job / "metrics.json").write_text(json.dumps(metrics | {"device": "cpu"}))
    assert [(row["job"], row["status"]) for row in collect(tmp_path)] == [
        ("2", "finished"),
        ("0", "finished"),
        ("1", "no metrics.json"),
    ]


def test_bench_measures_the_cpu_and_says_why_there_is_no_accelerator_row(capsys):
    assert bench.main(["experiment=debug", "--epochs", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    cpu = result["rows"][0]
    assert cpu["device"] == "cpu" and cpu["samples_per_second"] > 0 and len(cpu["epoch_seconds"]) == 2
    assert result["n_train"] == 205 and result["model"] == "linear"
    if len(result["rows"]) == 1:
        assert result["no_accelerator_reason"] and result["faster"] is None
        assert "no accelerator row: " + result["no_accelerator_reason"] in bench.report(result)
    else:
        assert result["faster"] in ("cpu", "metal", "cuda") and result["speedup"] >= 1


def verify_snippets() -> list:
    page = (PROJECT / "docs" / "verify.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.+?)```", page, flags=re.S)


@pytest.mark.parametrize("index", [0, 1])
def test_the_seeds_checks_in_docs_verify_run(capsys, index):
    snippets = verify_snippets()
    assert len(snippets) == 2
    # the page's own code, run as written: the test is that the documented snippet works
    exec(compile(snippets[index], f"docs/verify.md snippet {index + 1}", "exec"), {})  # noqa: S102 - see above
    out = capsys.readouterr().out
    if backend.is_torch() and index == 0:
        assert re.fullmatch(r"mps (True|False), cuda (True|False)\n", out), out
    elif backend.is_torch():
        assert out in ("cpu\n", "mps:0\n", "cuda:0\n"), out
    elif index == 0:
        assert "PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')" in out
    else:
        assert re.search(r"/device:(CPU|GPU):0\s*$", out), out
