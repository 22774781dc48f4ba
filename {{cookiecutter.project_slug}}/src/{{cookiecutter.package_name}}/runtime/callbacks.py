"""The callbacks group: Keras's own callbacks, each on or off by config, writing into the run directory.

`resume=true` rests on Keras's BackupAndRestore (a backup of the training state at every epoch end,
restored by `fit`). `EpochLog` is the one callback of our own: it keeps the per-epoch logs of the whole
run across a kill, so that metrics.json and history.csv cover every epoch, before and after it.
"""

from __future__ import annotations

import csv
import inspect
import json
import math
import os
import time
from pathlib import Path

BACKUP_DIR = "backup"
CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
HISTORY_CSV = "history.csv"
EPOCH_LOG = "epochs.json"  # inside the backup folder: it lives exactly as long as the backup


def monitored(cfg, has_validation: bool) -> str:
    if cfg.monitor != "auto":
        return cfg.monitor
    return "val_loss" if has_validation else "loss"


def make_epoch_log(run_dir: Path, keras, persist: bool):
    """The callback that keeps every epoch's logs (on disk beside the backup when `persist`), and the
    epoch fit (re)started from. Made here so that this module loads without TensorFlow."""

    class EpochLog(keras.callbacks.Callback):
        """It runs before BackupAndRestore at each epoch end, so every epoch in a backup is in this log too;
        an epoch logged but not backed up is dropped when fit restarts from the backup's epoch."""

        def __init__(self):
            super().__init__()
            self.path = run_dir / BACKUP_DIR / EPOCH_LOG if persist else None
            self.history_csv = run_dir / HISTORY_CSV
            self.started_from = None
            self.epochs = []

        def on_train_begin(self, logs=None):
            if self.path and self.path.exists():
                self.epochs = json.loads(self.path.read_text(encoding="utf-8"))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.perf_counter()
            if self.started_from is None:  # fit's first epoch: 0, or where BackupAndRestore resumes
                self.started_from = epoch
                self.epochs = [entry for entry in self.epochs if entry["epoch"] < epoch]
                truncate_history_csv(self.history_csv, epoch)

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.epoch_started
            logs = {key: float(value) for key, value in (logs or {}).items()}
            self.epochs.append({"epoch": epoch, "seconds": seconds, **logs})
            if not self.path:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps(self.epochs), encoding="utf-8")
            partial.replace(self.path)  # atomic: a kill leaves the old log or the new one

        def on_train_end(self, logs=None):
            if self.path:  # the run is over (BackupAndRestore drops its backup too)
                self.path.unlink(missing_ok=True)

        def history(self) -> dict:
            """{metric: [value per epoch]} for every epoch of the run."""
            keys = [key for key in (self.epochs[0] if self.epochs else {}) if key not in ("epoch", "seconds")]
            return {key: [entry.get(key, math.nan) for entry in self.epochs] for key in keys}

        def epoch_seconds(self) -> list:
            return [round(entry["seconds"], 5) for entry in self.epochs]

    return EpochLog()


def truncate_history_csv(path: Path, first_epoch: int) -> None:
    """Drop rows of epochs at or after first_epoch: a resumed run writes them again. CSVLogger has the
    file open for appending, so its next row still lands at the (new) end."""
    if not path.exists():
        return
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [row for row in rows[1:] if row and int(row[0]) < first_epoch]
    if len(kept) != len(rows):
        with path.open("r+", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(kept)
            handle.truncate()


def build(cfg, run_dir: Path, keras, epoch_log, has_validation: bool) -> list:
    """The configured callbacks, in the order they must run at each epoch end: the epoch log first and
    the backup last, so that everything a backup covers has been written before it."""
    run_dir = Path(run_dir)
    monitor = monitored(cfg, has_validation)
    callbacks = [epoch_log]
    if cfg.terminate_on_nan:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    if cfg.csv_logger:
        callbacks.append(keras.callbacks.CSVLogger(str(run_dir / HISTORY_CSV), append=True))
    if cfg.checkpoint:
        (run_dir / CHECKPOINT_DIR).mkdir(exist_ok=True)
        callbacks += [
            keras.callbacks.ModelCheckpoint(
                str(run_dir / CHECKPOINT_DIR / "best.keras"), monitor=monitor, save_best_only=True
            ),
            keras.callbacks.ModelCheckpoint(str(run_dir / CHECKPOINT_DIR / "last.keras")),
        ]
    if cfg.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor=monitor, patience=cfg.patience, restore_best_weights=True)
        )
    if cfg.reduce_lr_on_plateau:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=cfg.reduce_lr_factor, patience=cfg.reduce_lr_patience, verbose=1
            )
        )
    if cfg.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / TENSORBOARD_DIR)))
    if cfg.backup_and_restore:
        callbacks.append(kill_safe_backup(keras.callbacks.BackupAndRestore, str(run_dir / BACKUP_DIR)))
    return callbacks


def restore_best(model, fit_callbacks: list, keras) -> int | None:
    """With early stopping, the model ends with the best epoch's weights (Keras 3 restores them when fit ends,
    Keras 2 only when it stopped the run early: set them here either way); returns that epoch (from 0)."""
    stopper = next((item for item in fit_callbacks if isinstance(item, keras.callbacks.EarlyStopping)), None)
    if stopper is None or stopper.best_weights is None:
        return None
    model.set_weights(stopper.best_weights)
    return int(stopper.best_epoch)


def kill_safe_backup(backup_class, backup_dir: str):
    """BackupAndRestore that a SIGKILL while it writes cannot leave unloadable (a truncated weights file no
    resume can load). Keras 3.7+ keeps the previous backup beside it (double_checkpoint) and falls back to it;
    Keras 3 before 3.7 (the Mac pin, 3.6.0) has no such option, so its backup is written under other names and
    moved into place (os.replace is atomic); Keras 2 backs up through tf.train.CheckpointManager."""
    if "double_checkpoint" in inspect.signature(backup_class).parameters:
        return backup_class(backup_dir=backup_dir, double_checkpoint=True)
    backup = backup_class(backup_dir=backup_dir)
    if not hasattr(backup, "_weights_path"):  # Keras 2's
        return backup

    class WrittenThenMoved(backup_class):
        def _save_model(self):
            final = (self._weights_path, self._training_metadata_path)
            written = (str(Path(backup_dir) / "next.weights.h5"), str(Path(backup_dir) / "next_metadata.json"))
            self._weights_path, self._training_metadata_path = written
            try:
                super()._save_model()
            finally:
                self._weights_path, self._training_metadata_path = final
            for source, target in zip(written, final, strict=True):  # the weights first, then the epoch
                os.replace(source, target)

    return WrittenThenMoved(backup_dir=backup_dir)
