"""--apply for real: the Keras 2.4 fixture does not even import on this stack; its migrated copy trains
for one epoch in this .venv. Runs in this test process (TensorFlow is imported once per suite)."""

import runpy
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.migrate.__main__ import main

FIXTURE = Path(__file__).parent / "fixtures" / "legacy" / "keras24_gpu"


def run_script(path: Path, monkeypatch, *arguments: str):
    monkeypatch.setattr(sys, "argv", [str(path), *arguments])
    runpy.run_path(str(path), run_name="__main__")


def test_the_migrated_keras24_project_trains_one_epoch_here(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no uv: the analysis stays offline
    monkeypatch.chdir(tmp_path)  # the legacy script saves its model into the working directory
    copy = tmp_path / "migrated"
    assert main([str(FIXTURE), "--out", str(tmp_path / "report"), "--apply", str(copy)]) == 0

    with pytest.raises(ImportError, match="CuDNNLSTM"):
        run_script(FIXTURE / "train.py", monkeypatch, "--epochs", "1")

    capsys.readouterr()
    run_script(copy / "train.py", monkeypatch, "--epochs", "1")
    assert "8/8" in capsys.readouterr().out  # one epoch of steps_per_epoch=8 batches
    assert (tmp_path / "sentiment.h5").stat().st_size > 0
