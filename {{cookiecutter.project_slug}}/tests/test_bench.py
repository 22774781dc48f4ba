"""The bench on this stack's backend: a real CPU measurement through the backend's device scope, and the table."""

import json
import sys

from {{ cookiecutter.package_name }} import bench
from {{ cookiecutter.package_name }}.runtime import backend


def test_the_bench_times_the_cpu_inside_the_backends_device_scope(tf, capsys):
    assert bench.main(["experiment=debug", "--epochs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    cpu = result["rows"][0]
    assert (cpu["device"], cpu["device_string"]) == ("cpu", "cpu" if backend.is_torch() else "/CPU:0")
    assert cpu["samples_per_second"] > 0 and len(cpu["epoch_seconds"]) == 1
    if len(result["rows"]) == 1:
        assert result["no_accelerator_reason"] and result["faster"] is None
    if backend.is_torch():
        assert "tensorflow" not in sys.modules, "the bench of a keras-torch project never imports TensorFlow"


def test_the_table_names_each_device_and_which_is_faster():
    rows = [
        {"device": "cpu", "device_string": "cpu", "samples_per_second": 1000.0, "median_epoch_seconds": 0.2},
        {"device": "metal", "device_string": "mps:0", "samples_per_second": 3000.0, "median_epoch_seconds": 0.0667},
    ]
    result = {"model": "mlp", "data": "synthetic", "n_train": 200, "batch_size": 32, "epochs_timed": 5, "rows": rows}
    text = bench.report(result | {"faster": "metal", "speedup": 3.0, "no_accelerator_reason": None})
    assert "cpu (cpu)" in text and "metal (mps:0)" in text and "3,000" in text
    assert text.endswith("metal is 3.00x as fast as cpu for this model and data")
    alone = bench.report(result | {"rows": rows[:1], "faster": None, "speedup": None, "no_accelerator_reason": "why"})
    assert alone.endswith("no accelerator row: why") and "mps:0" not in alone
