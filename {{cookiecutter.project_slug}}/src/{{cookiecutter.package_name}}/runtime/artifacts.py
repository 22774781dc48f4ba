"""The run directory: whether a run may write into it, and what a finished run leaves there.

model.keras, metrics.json and loss_curve.png are written here at the end; history.csv, checkpoints/,
tensorboard/ and backup/ by the callbacks during the run (see callbacks.py); error.txt by a sweep's job
that failed (its one-line error, for the sweep's summary).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from .callbacks import BACKUP_DIR, CHECKPOINT_DIR, HISTORY_CSV, TENSORBOARD_DIR

MODEL = "model.keras"
METRICS = "metrics.json"
LOSS_CURVE = "loss_curve.png"
ERROR = "error.txt"
# What a run writes: any of them means the directory is used by a run.
MODEL_INFO = "model.json"  # what model.keras takes and gives (runtime/rundir.py)
RUN_OUTPUTS = (MODEL, MODEL_INFO, METRICS, HISTORY_CSV, LOSS_CURVE, CHECKPOINT_DIR, TENSORBOARD_DIR, BACKUP_DIR)


class RunError(RuntimeError):
    """The run cannot start or did not finish; the message says why and what to do."""


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """A fresh run never writes into a used directory; resume=true continues an unfinished run there (or
    starts one in a fresh directory), but never touches a finished one."""
    taken = [name for name in RUN_OUTPUTS if (run_dir / name).exists()]
    if resume and (run_dir / METRICS).exists():
        raise RunError(f"{run_dir} holds a finished run ({METRICS}); nothing to resume: choose another hydra.run.dir.")
    if taken and not resume:
        raise RunError(
            f"{run_dir} already holds {', '.join(taken)}; choose another hydra.run.dir, "
            "or pass resume=true to continue a run that was stopped there."
        )


def drop_backup(run_dir: Path) -> None:
    """A finished run needs no backup (Keras 3's BackupAndRestore deletes it itself, Keras 2's keeps the folder)."""
    shutil.rmtree(run_dir / BACKUP_DIR, ignore_errors=True)


def final(history: dict, epoch: int | None = None) -> dict:
    """{"final_<metric>": value} for every metric in the history: the values of the epoch whose weights the
    saved model holds (`epoch`, counted from 0: the best one with early stopping), else of the last epoch."""
    return {
        f"final_{key}": (values[-1] if epoch is None else values[epoch]) if values else None
        for key, values in history.items()
    }


def stopped_by_nan(history: dict) -> bool:
    return any(not math.isfinite(value) for value in history.get("loss", [])[-1:])


def write_error(run_dir: Path, line: str) -> None:
    """A failed sweep job's one-line error, read by the sweep's summary (summary.py)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / ERROR).write_text(line + "\n", encoding="utf-8")


def write_metrics(run_dir: Path, metrics: dict) -> None:
    (run_dir / METRICS).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
