"""The sweep's table: a Hydra callback (configured under hydra.callbacks in conf/train.yaml) that writes
summary.csv and summary.md at the root of a multirun when it ends, one row per job, best first.

It reads what each job left on disk (.hydra/overrides.yaml, metrics.json, error.txt), so it works with any
launcher, and a job that did not finish still gets a row. A job that failed or was refused (train.py writes
its one-line error into error.txt and lets the sweep go on) gets status `failed` and its error; after
writing the table, the callback ends the sweep with exit status 1, naming the failed jobs.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

from .artifacts import ERROR, METRICS

log = logging.getLogger(__name__)

SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
LEADING = ["job", "overrides", "status"]
TRAILING = ["device", "wall_time_seconds"]
FAILED = "failed"


class SweepSummary(Callback):
    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        rows = collect(sweep_dir)
        if rows:
            write(sweep_dir, rows)
            log.info("Sweep summary of %d jobs: %s", len(rows), sweep_dir / SUMMARY_MD)
        failed = [row for row in rows if row["status"] == FAILED]
        if failed:
            # SystemExit, not an exception: Hydra turns a callback's exceptions into warnings and exits 0.
            names = "; ".join(f"job {row['job']} ({row['overrides']}): {row['error']}" for row in failed)
            raise SystemExit(f"error: {len(failed)} of {len(rows)} jobs of the sweep failed: {names}")


def collect(sweep_dir: Path) -> list:
    """One row per job folder of the sweep, best first."""
    rows = []
    for job_dir in sorted(sweep_dir.iterdir(), key=lambda p: (len(p.name), p.name)):
        overrides_file = job_dir / ".hydra" / "overrides.yaml"
        if not overrides_file.is_file():
            continue
        row = {"job": job_dir.name, "overrides": " ".join(OmegaConf.load(overrides_file)), "status": "no metrics.json"}
        metrics_file = job_dir / METRICS
        error_file = job_dir / ERROR
        if error_file.is_file():
            row.update(status=FAILED, error=error_file.read_text(encoding="utf-8").strip())
        elif metrics_file.is_file():
            metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
            row["status"] = "finished"
            row.update({key: value for key, value in metrics.items() if key.startswith("final_")})
            row.update({key: metrics.get(key) for key in TRAILING})
        rows.append(row)
    return sorted(rows, key=rank_key(rows))


def rank_key(rows: list):
    """Lowest validation loss first when the jobs have one, else lowest training loss; jobs without a
    number last, in job order."""
    column = "final_val_loss" if any(row.get("final_val_loss") is not None for row in rows) else "final_loss"

    def key(row):
        value = row.get(column)
        missing = value is None or not math.isfinite(value)
        return (missing, 0.0 if missing else value)

    return key


def columns(rows: list) -> list:
    metrics = sorted({key for row in rows for key in row if key.startswith("final_")})
    ordered = [name for name in ("final_loss", "final_val_loss") if name in metrics]
    errors = ["error"] if any("error" in row for row in rows) else []
    return LEADING + ordered + [name for name in metrics if name not in ordered] + TRAILING + errors


def write(sweep_dir: Path, rows: list) -> None:
    names = columns(rows)
    with (sweep_dir / SUMMARY_CSV).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, restval="")
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(row.get(name)) for name in names) + " |" for row in rows]
    (sweep_dir / SUMMARY_MD).write_text("\n".join(lines) + "\n", encoding="utf-8")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")
