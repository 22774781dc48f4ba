"""export: each format written, loaded back and compared with model.keras on the run's rows; refusals in one line."""

import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.runtime import backend, exporting
from {{ cookiecutter.package_name }}.runtime.artifacts import RunError
from {{ cookiecutter.package_name }}.train import train

PROJECT = Path(__file__).resolve().parents[1]
# The format the command exports by default (conf/export.yaml): TensorFlow's own, or ONNX on keras-torch.
DEFAULT = "onnx" if backend.is_torch() else "savedmodel"
on_torch = pytest.mark.skipif(not backend.is_torch(), reason="keras-torch only: this stack exports with TensorFlow")


def test_what_cannot_be_exported_is_refused_in_one_line_before_the_framework(tmp_path, monkeypatch):
    with pytest.raises(RunError, match="holds no model.keras"):
        exporting.check_request(tmp_path, exporting.formats()[0])
    (tmp_path / "model.keras").write_text("a model")
    with pytest.raises(RunError, match=f"format=pdf is not one of {', '.join(exporting.formats())}.$"):
        exporting.check_request(tmp_path, "pdf")
    tool = exporting.writers().TOOLS["onnx"][0]
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == tool else real_find_spec(name))
    with pytest.raises(RunError) as refused:
        exporting.check_request(tmp_path, "onnx")
    assert f"format=onnx needs {tool}" in str(refused.value) and "make export-tools" in str(refused.value)
    assert "\n" not in str(refused.value)
    if not backend.is_torch():
        exporting.check_request(tmp_path, "savedmodel")  # needs nothing beyond the stack


@on_torch
@pytest.mark.parametrize("format_name", exporting.TENSORFLOW_FORMATS)
def test_tensorflows_formats_are_refused_with_the_reason_on_keras_torch(tmp_path, format_name):
    assert exporting.formats() == ("onnx", "coreml")
    # refused whatever the run directory holds: the format itself cannot be written on this stack
    with pytest.raises(RunError) as refused:
        exporting.check_request(tmp_path, format_name)
    message = str(refused.value)
    assert message.startswith(f"format={format_name} is TensorFlow's format") and "\n" not in message
    assert "no TensorFlow (Keras on PyTorch)" in message and "format=onnx or format=coreml" in message


@on_torch
def test_the_command_refuses_savedmodel_in_one_line_without_loading_a_framework(tmp_path):
    """Through the command line, as a user runs it; the refusal comes before torch or Keras is imported."""
    (tmp_path / "model.keras").write_text("a model")
    probe = (
        "import sys\n"
        "from {{ cookiecutter.package_name }}.export import main\n"
        f"sys.argv = ['export', 'run_dir={tmp_path}', 'format=savedmodel']\n"
        "try:\n    main()\nexcept SystemExit as stop:\n"
        "    print(stop.code, sorted(name for name in ('torch', 'keras', 'tensorflow') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "1 []", done.stderr[-2000:]
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: format=savedmodel is TensorFlow's format")


@pytest.fixture(scope="module")
def finished_run(tf, tmp_path_factory):
    """A short csv run, with the config Hydra would have saved beside it."""
    from hydra import compose, initialize_config_module

    root = tmp_path_factory.mktemp("export")
    lines = ["a,b,c,y"] + [f"{i},{(i * 7) % 11},{i % 3},{3 * i - 5}" for i in range(80)]
    (root / "table.csv").write_text("\n".join(lines) + "\n")
    overrides = ["experiment=debug", "data=csv", f"data.path={root / 'table.csv'}", "data.target=y"]
    with initialize_config_module(config_module="{{ cookiecutter.package_name }}.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides + ["callbacks.tensorboard=false"])
    run_dir = root / "run"
    train(cfg, run_dir)
    (run_dir / ".hydra").mkdir()
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
    return run_dir


def skip_without_tools(format_name: str) -> None:
    tools = exporting.writers().TOOLS.get(format_name, ())
    missing = [name for name in tools if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"format={format_name} needs {', '.join(missing)}: make export-tools")


@pytest.mark.slow
def test_the_command_exports_its_default_format_in_agreement_with_model_keras(finished_run):
    skip_without_tools(DEFAULT)
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}.export", f"run_dir={finished_run}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{DEFAULT}: {finished_run / 'export' / DEFAULT}" in result.stdout
    assert "; largest difference from model.keras on 8 rows" in result.stdout
    record = json.loads((finished_run / "export" / "export.json").read_text())[DEFAULT]
    # compared on the run's test rows: data.test_split=0.1 of 80
    assert record["verified"] and record["agrees"] and record["rows"] == 8
    assert record["relative_difference"] <= exporting.TOLERANCE == record["tolerance"]
    written = {"savedmodel": "saved_model.pb", "onnx": "model.onnx"}[DEFAULT]
    assert (finished_run / "export" / DEFAULT / written).is_file()


@pytest.mark.slow
@pytest.mark.parametrize("format_name", [name for name in exporting.formats() if name != DEFAULT])
def test_each_format_is_loaded_back_and_compared_on_the_runs_rows(finished_run, format_name):
    skip_without_tools(format_name)
    record = exporting.export(finished_run, format_name)
    assert (finished_run / record["path"]).exists()
    assert json.loads((finished_run / "export" / "export.json").read_text())[format_name] == record
    if backend.is_torch():
        assert "tensorflow" not in sys.modules, "keras-torch exports without TensorFlow"
    if format_name == "coreml" and platform.system() != "Darwin":
        assert record["verified"] is False and "only on macOS" in record["why_not_verified"]
        pytest.skip("Core ML predictions run only on macOS: converted, not compared, on this machine")
    assert record["verified"] and record["agrees"], record


@pytest.mark.slow
def test_a_converter_that_fails_stops_in_one_line_naming_the_versions_and_leaves_no_export(finished_run, monkeypatch):
    def broken(*args):
        raise ValueError("cannot convert this op\nsecond line")

    format_name = exporting.formats()[-1]
    monkeypatch.setitem(exporting.writers().WRITERS, format_name, broken)
    with pytest.raises(RunError) as failed:
        exporting.export(finished_run, format_name)
    message = str(failed.value)
    assert message.startswith(f"format={format_name} failed with {exporting.writers().framework()}, Keras ")
    assert message.endswith("ValueError: cannot convert this op") and "\n" not in message
    assert not (finished_run / "export" / format_name).exists()
