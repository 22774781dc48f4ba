"""A trained run's model.keras in the formats apps and servers load, each loaded back and checked against
model.keras on rows of the run's own data.

savedmodel (model.export) and tflite (TensorFlow's converter) need nothing beyond the stack; onnx (tf2onnx,
run back under onnxruntime) and coreml (coremltools, from one concrete function: converting the SavedModel
directory fails) need the export tools overlay (`make export-tools`). Core ML predictions run only on macOS:
elsewhere the package is written and export.json says it was not verified, and why.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
from importlib.metadata import version
from pathlib import Path

import numpy as np

from .artifacts import MODEL, RunError
from .build import keras_version

FORMATS = ("savedmodel", "tflite", "onnx", "coreml")
EXPORT_DIR = "export"
EXPORT_JSON = "export.json"
TOLERANCE = 1e-4  # relative to the largest output of model.keras on the rows
ROWS = 64
COREML_MAX_BATCH = 1024
TOOLS = {"onnx": ("tf2onnx", "onnxruntime"), "coreml": ("coremltools",)}
INSTALL_TOOLS = "make export-tools (or python3 bootstrap.py --export-tools)"


def check_request(run_dir: Path, format_name: str) -> None:
    """Refuse, in one line and before TensorFlow loads, what cannot be exported."""
    if format_name not in FORMATS:
        raise RunError(f"format={format_name} is not one of {', '.join(FORMATS)}.")
    if not (run_dir / MODEL).is_file():
        raise RunError(f"{run_dir} holds no {MODEL} (a finished run): choose a run_dir= that finished.")
    missing = [name for name in TOOLS.get(format_name, ()) if importlib.util.find_spec(name) is None]
    if missing:
        raise RunError(f"format={format_name} needs {' and '.join(missing)}, not installed here: {INSTALL_TOOLS}.")


def comparison_rows(run_dir: Path, limit: int = ROWS) -> np.ndarray:
    """The rows each export is checked on, at most `limit`: the run's own test rows, rebuilt from model.json
    (rundir.py), or, for a run that held out none (data.test_split=0), the first rows of its data."""
    from . import rundir

    run = rundir.load_run(run_dir)
    x, _ = run.test_rows() if run.info.get("n_test") else run.rows([])
    return np.asarray(x[:limit], dtype=np.float32)


def export(tf, keras, run_dir: Path, format_name: str) -> dict:
    """Write DIR/export/<format>/, load it back, compare it with model.keras on the run's rows, and record
    the result in DIR/export/export.json; returns the record."""
    model = keras.models.load_model(run_dir / MODEL)
    rows = comparison_rows(run_dir)
    expected = np.asarray(model.predict(rows, verbose=0))
    target = run_dir / EXPORT_DIR / format_name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    try:
        outputs, written, why_not = WRITERS[format_name](tf, model, rows, target)
    except Exception as error:  # a converter's failure on this stack: one line naming the versions
        shutil.rmtree(target, ignore_errors=True)
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise RunError(
            f"format={format_name} failed with {versions(format_name, tf)}: {type(error).__name__}: {first}"
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


def versions(format_name: str, tf) -> str:
    tools = [f"{name} {version(name)}" for name in TOOLS.get(format_name, ())]
    return ", ".join([f"TensorFlow {tf.__version__}", f"Keras {keras_version()}", *tools])


def write_savedmodel(tf, model, rows, target: Path):
    model.export(str(target))
    serve = tf.saved_model.load(str(target)).signatures["serving_default"]
    return next(iter(serve(tf.constant(rows)).values())).numpy(), target, None


def write_tflite(tf, model, rows, target: Path):
    saved = target / "savedmodel"
    model.export(str(saved))
    path = target / "model.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(saved)).convert())
    shutil.rmtree(saved)
    interpreter = tf.lite.Interpreter(model_path=str(path))
    (given,), (answer,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.resize_tensor_input(given["index"], rows.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(given["index"], rows)
    interpreter.invoke()
    return interpreter.get_tensor(answer["index"]), path, None


def signature_function(tf, model, rows):
    spec = tf.TensorSpec((None, *rows.shape[1:]), tf.float32, name="inputs")
    return tf.function(lambda inputs: model(inputs, training=False), input_signature=[spec]), spec


def write_onnx(tf, model, rows, target: Path):
    import onnxruntime
    import tf2onnx
    import tf2onnx.tf_loader

    # from the serving SavedModel, as tf2onnx's own command line does: it freezes what the model captures
    # (the preprocessing's statistics), which from_function would leave as extra inputs
    saved = target / "savedmodel"
    model.export(str(saved))
    graph, inputs, outputs = tf2onnx.tf_loader.from_saved_model(str(saved), None, None, signatures=["serving_default"])
    path = target / "model.onnx"
    tf2onnx.convert.from_graph_def(graph, input_names=inputs, output_names=outputs, output_path=str(path))
    shutil.rmtree(saved)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: rows})[0], path, None


def write_coreml(tf, model, rows, target: Path):
    import coremltools

    function, _ = signature_function(tf, model, rows)
    # batches of 1 to COREML_MAX_BATCH (coremltools bounds an unknown dimension at 2; mlprogram needs a bound)
    batch = coremltools.RangeDim(lower_bound=1, upper_bound=COREML_MAX_BATCH, default=1)
    converted = coremltools.convert(
        [function.get_concrete_function()],
        source="tensorflow",
        convert_to="mlprogram",
        inputs=[coremltools.TensorType(name="inputs", shape=(batch, *rows.shape[1:]))],
    )
    path = target / "model.mlpackage"
    converted.save(str(path))
    if platform.system() != "Darwin":
        return None, path, f"Core ML runs models only on macOS; converted on {platform.system()}"
    loaded = coremltools.models.MLModel(str(path))
    name = loaded.get_spec().description.input[0].name
    return next(iter(loaded.predict({name: rows}).values())), path, None


WRITERS = {"savedmodel": write_savedmodel, "tflite": write_tflite, "onnx": write_onnx, "coreml": write_coreml}
