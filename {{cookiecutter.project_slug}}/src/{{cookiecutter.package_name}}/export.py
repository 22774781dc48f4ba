"""Export a finished run's model: `python -m {{ cookiecutter.package_name }}.export run_dir=DIR format=FORMAT`.
{% if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}
FORMAT is onnx or coreml (savedmodel and tflite are TensorFlow's formats, and this stack has no TensorFlow);
{%- else %}
FORMAT is savedmodel, tflite, onnx or coreml;
{%- endif %}
the export lands in DIR/export/<format>/, is loaded back and compared with model.keras on the run's own rows
(runtime/exporting.py), and the result is printed and recorded in DIR/export/export.json.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .runtime import exporting, rundir
from .runtime.artifacts import RunError
from .runtime.datasets import DataError
from .runtime.rundir import RunDirError

log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path="conf", config_name="export")
def main(cfg: DictConfig) -> None:
    run_dir = Path(cfg.run_dir)
    try:
        exporting.check_request(run_dir, cfg.format)
        rundir.load_run(run_dir)  # model.json, which rebuilds the rows to compare on: refused before Keras loads
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        record = exporting.export(run_dir, cfg.format)
    except (RunError, DataError, RunDirError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    where = run_dir / record["path"]
    if not record["verified"]:
        print(f"{cfg.format}: {where} (not verified: {record['why_not_verified']})")
        return
    print(
        f"{cfg.format}: {where}; largest difference from model.keras on {record['rows']} rows: "
        f"{record['max_abs_difference']:.3g} ({record['relative_difference']:.3g} relative, tolerance "
        f"{record['tolerance']:g})"
    )
    if not record["agrees"]:
        print(f"error: the {cfg.format} export does not agree with model.keras within the tolerance.", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
