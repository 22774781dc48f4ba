"""The export writers of a TensorFlow stack (exporting.py compares and records what they write).

Each takes the loaded model, the rows to compare on and its folder, and returns (the export's outputs on the
rows, or None; the file or folder written; why the outputs are None).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from .exporting import coreml_input, save_coreml

TOOLS = {"onnx": ("tf2onnx", "onnxruntime"), "coreml": ("coremltools",)}


def tensorflow():
    import tensorflow as tf

    return tf


def framework() -> str:
    return f"TensorFlow {tensorflow().__version__}"


def scope():
    """TensorFlow places the export's ops itself."""
    return contextlib.nullcontext()


def write_savedmodel(model, rows, target: Path):
    tf = tensorflow()
    model.export(str(target))
    serve = tf.saved_model.load(str(target)).signatures["serving_default"]
    return next(iter(serve(tf.constant(rows)).values())).numpy(), target, None


def write_tflite(model, rows, target: Path):
    tf = tensorflow()
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


def write_onnx(model, rows, target: Path):
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


def write_coreml(model, rows, target: Path):
    import coremltools

    function, _ = signature_function(tensorflow(), model, rows)
    converted = coremltools.convert(
        [function.get_concrete_function()],
        source="tensorflow",
        convert_to="mlprogram",
        inputs=[coreml_input(coremltools, rows)],
    )
    return save_coreml(coremltools, converted, rows, target)


WRITERS = {"savedmodel": write_savedmodel, "tflite": write_tflite, "onnx": write_onnx, "coreml": write_coreml}
