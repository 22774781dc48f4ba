"""A trained run's model.keras in the formats apps and servers load, each loaded back and checked against
model.keras on rows of the run's own data.

What writes each format depends on the stack's Keras backend (one module each; this one holds what they
share: the refusals, the rows compared on, the comparison and its record):
- TensorFlow stacks (exporting_tf.py): savedmodel (model.export) and tflite (TensorFlow's converter) need
  nothing beyond the stack; onnx (tf2onnx) and coreml (coremltools, from one concrete function).
- keras-torch (exporting_torch.py): onnx (Keras's exporter on torch, torch.onnx) and coreml (coremltools,
  from torch.jit.trace of the model). savedmodel and tflite are TensorFlow's formats: refused, with the reason.
onnx and coreml need the export tools overlay (`make export-tools`). Core ML predictions run only on macOS:
elsewhere the package is written and export.json says it was not verified, and why.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import platform
import shutil
from pathlib import Path

import numpy as np

from . import backend
from .artifacts import MODEL, RunError
from .build import keras_version
from .stack import installed

FORMATS = ("savedmodel", "tflite", "onnx", "coreml")
TENSORFLOW_FORMATS = ("savedmodel", "tflite")  # TensorFlow's own formats: its runtime writes and runs them
EXPORT_DIR = "export"
EXPORT_JSON = "export.json"
TOLERANCE = 1e-4  # relative to the largest output of model.keras on the rows
ROWS = 64
COREML_MAX_BATCH = 1024  # coremltools bounds an unknown dimension at 2; an mlprogram needs a bound
INSTALL_TOOLS = "make export-tools (or python3 bootstrap.py --export-tools)"


def writers():
    """The module that writes each format on this stack's backend (imported on use: neither imports its
    framework before a writer runs)."""
    name = "exporting_torch" if backend.is_torch() else "exporting_tf"
    return importlib.import_module(f"{__package__}.{name}")


def formats() -> tuple:
    """The formats this stack exports."""
    return tuple(name for name in FORMATS if not (backend.is_torch() and name in TENSORFLOW_FORMATS))


def check_request(run_dir: Path, format_name: str) -> None:
    """Refuse, in one line and before the framework loads, what cannot be exported."""
    if backend.is_torch() and format_name in TENSORFLOW_FORMATS:
        raise RunError(
            f"format={format_name} is TensorFlow's format (written and run by TensorFlow), and this keras-torch "
            f"stack has no TensorFlow (Keras on PyTorch): export format=onnx or format=coreml, or generate the "
            "project with a TensorFlow stack for it."
        )
    if format_name not in formats():
        raise RunError(f"format={format_name} is not one of {', '.join(formats())}.")
    if not (run_dir / MODEL).is_file():
        raise RunError(f"{run_dir} holds no {MODEL} (a finished run): choose a run_dir= that finished.")
    missing = [name for name in writers().TOOLS.get(format_name, ()) if importlib.util.find_spec(name) is None]
    if missing:
        raise RunError(f"format={format_name} needs {' and '.join(missing)}, not installed here: {INSTALL_TOOLS}.")


def comparison_rows(run_dir: Path, limit: int = ROWS) -> np.ndarray:
    """The rows each export is checked on, at most `limit`: the run's own test rows, rebuilt from model.json
    (rundir.py), or, for a run that held out none (data.test_split=0), the first rows of its data."""
    from . import rundir

    run = rundir.load_run(run_dir)
    x, _ = run.test_rows() if run.info.get("n_test") else run.rows([])
    return np.asarray(x[:limit], dtype=np.float32)


def export(run_dir: Path, format_name: str) -> dict:
    """Write DIR/export/<format>/, load it back, compare it with model.keras on the run's rows, and record
    the result in DIR/export/export.json; returns the record."""
    module = writers()
    rows = comparison_rows(run_dir)
    with module.scope():
        model = backend.keras().models.load_model(run_dir / MODEL)
        expected = np.asarray(model.predict(rows, verbose=0))
        target = run_dir / EXPORT_DIR / format_name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        try:
            outputs, written, why_not = module.WRITERS[format_name](model, rows, target)
        except Exception as error:  # a converter's failure on this stack: one line naming the versions
            shutil.rmtree(target, ignore_errors=True)
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise RunError(
                f"format={format_name} failed with {versions(module, format_name)}: {type(error).__name__}: {first}"
            ) from error
    record = {"path": str(written.relative_to(run_dir)), "rows": len(rows), "tolerance": TOLERANCE}
    if outputs is None:
        record.update(verified=False, why_not_verified=why_not)
    else:
        largest = float(np.max(np.abs(expected)))
        difference = float(np.max(np.abs(np.asarray(outputs).reshape(expected.shape) - expected)))
        relative = difference / max(largest, np.finfo(np.float32).tiny)
        record.update(verified=True, max_abs_difference=difference, relative_difference=relative)
        record["agrees"] = relative <= TOLERANCE
    summary = run_dir / EXPORT_DIR / EXPORT_JSON
    records = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
    records[format_name] = record
    summary.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return record


def versions(module, format_name: str) -> str:
    tools = [f"{name} {installed(name) or '(not installed)'}" for name in module.TOOLS.get(format_name, ())]
    return ", ".join([module.framework(), f"Keras {keras_version()}", *tools])


def coreml_input(coremltools, rows):
    """The model's one input for Core ML: batches of 1 to COREML_MAX_BATCH rows shaped like these."""
    batch = coremltools.RangeDim(lower_bound=1, upper_bound=COREML_MAX_BATCH, default=1)
    return coremltools.TensorType(name="inputs", shape=(batch, *rows.shape[1:]))


def save_coreml(coremltools, converted, rows, target: Path):
    """Save the converted model; run it on the rows where Core ML runs (macOS), else say it was not."""
    path = target / "model.mlpackage"
    converted.save(str(path))
    if platform.system() != "Darwin":
        return None, path, f"Core ML runs models only on macOS; converted on {platform.system()}"
    loaded = coremltools.models.MLModel(str(path))
    name = loaded.get_spec().description.input[0].name
    return next(iter(loaded.predict({name: rows}).values())), path, None
