"""Hydra's launcher plugins run the sweeps: joblib (parallel processes on this machine) and submitit (a SLURM
cluster, or its local executor). One test runs a 2-job sweep with each, both at once, to keep the number of
processes that import TensorFlow (one per job) and the wall time down. Marked `launchers` (four TensorFlow
processes): skip it with -m "not launchers"."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
# One epoch on 256 samples, nothing but what the summary reads: seconds per job once TensorFlow is imported.
TINY = [
    "experiment=debug",
    "trainer.epochs=1",
    "callbacks.tensorboard=false",
    "callbacks.checkpoint=false",
    "loss_curve=false",
    "device=cpu",
    "optimizer=adam,sgd",
]
LAUNCHERS = {
    "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    "submitit_local": ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"],
}


@pytest.mark.slow
@pytest.mark.launchers
def test_joblib_and_submitit_local_sweeps_end_with_one_summary_each(tmp_path):
    sweeps = {}
    for name, launcher in LAUNCHERS.items():
        command = [
            sys.executable,
            "-m",
            "{{ cookiecutter.package_name }}.train",
            "-m",
            *TINY,
            *launcher,
        ]
        command.append(f"hydra.sweep.dir={tmp_path / name}")
        sweeps[name] = subprocess.Popen(
            command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    try:
        outputs = {name: process.communicate(timeout=600)[0] for name, process in sweeps.items()}
    finally:
        for process in sweeps.values():
            process.kill()

    for name, output in outputs.items():
        assert sweeps[name].returncode == 0, f"{name}: {output[-3000:]}"
        sweep_dir = tmp_path / name
        with (sweep_dir / "summary.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        # (the joblib launcher writes booleans as Python's True/False into overrides.yaml)
        assert sorted(row["overrides"].split()[-1] for row in rows) == ["optimizer=adam", "optimizer=sgd"], name
        assert [row["status"] for row in rows] == ["finished", "finished"], name
        # written once, by the process that launched the sweep, at its root: never by a job
        assert output.count("Sweep summary of 2 jobs") == 1, f"{name}: {output[-3000:]}"
        assert sorted(path.name for path in sweep_dir.rglob("summary.*")) == ["summary.csv", "summary.md"], name
    # the jobs really ran in other processes: submitit keeps a folder per job, joblib names its workers
    assert len([job for job in (tmp_path / "submitit_local" / ".submitit").iterdir() if job.name.isdigit()]) == 2
    assert "Joblib.Parallel(n_jobs=2" in outputs["joblib"]
