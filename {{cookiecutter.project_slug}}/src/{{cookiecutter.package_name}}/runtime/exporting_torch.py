"""The export writers of the keras-torch stack (exporting.py compares and records what they write).

onnx: Keras's own exporter (`model.export(path, format="onnx")`), which on torch traces the model with
torch.onnx (TorchScript when the batch size is left open, as here). coreml: coremltools converts a
torch.jit.trace of the model (coremltools 9.0 warns that it was tested with torch up to 2.7; the conversion of
these models was checked here with torch 2.15, but only on Linux, where Core ML cannot run them). Both run on
the CPU: model.keras is loaded there (on a Mac Keras would otherwise put it on MPS), so the trace and the
comparison see the same device.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

from .exporting import coreml_input, save_coreml

TOOLS = {"onnx": ("onnx", "onnxruntime"), "coreml": ("coremltools",)}
DEVICE = "cpu"


def framework() -> str:
    import torch

    return f"torch {torch.__version__}"


def scope():
    from .backend import keras

    return keras().device(DEVICE)


@contextlib.contextmanager
def quiet_tracing():
    """Tracing warns about every Python number a layer reads off a tensor (shapes, constants): expected for
    these models, whose graph the trace fixes except for the batch size. The comparison is the proof."""
    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def write_onnx(model, rows, target: Path):
    import onnxruntime

    path = target / "model.onnx"
    with quiet_tracing():
        model.export(str(path), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: rows})[0], path, None


def write_coreml(model, rows, target: Path):
    import coremltools
    import torch

    model.eval()
    with quiet_tracing(), torch.no_grad():
        traced = torch.jit.trace(model, torch.from_numpy(rows[:1]))
    converted = coremltools.convert(
        traced, source="pytorch", convert_to="mlprogram", inputs=[coreml_input(coremltools, rows)]
    )
    return save_coreml(coremltools, converted, rows, target)


WRITERS = {"onnx": write_onnx, "coreml": write_coreml}
