"""The doctor: failure signatures, the verdict, the numerics check, the keras-torch findings with fakes, and one
real examination of this environment."""

import dataclasses
import json
import sys
from types import SimpleNamespace

import pytest

from {{ cookiecutter.package_name }} import doctor
from {{ cookiecutter.package_name }}.runtime import backend, signatures, torch_checks, torch_devices
from {{ cookiecutter.package_name }}.runtime.environment import DeviceCheck, Finding, check_machine
from {{ cookiecutter.package_name }}.runtime.stack import Machine, load_stack, this_machine
from {{ cookiecutter.package_name }}.runtime.torch_devices import FALLBACK_VARIABLE, TorchFacts

STACK = load_stack()
APPLE_SILICON = Machine("Darwin", "arm64", rosetta=False, macos_version="14.5")
LINUX = Machine("Linux", "x86_64", rosetta=False, macos_version="")
tensorflow_only = pytest.mark.skipif(backend.is_torch(), reason="TensorFlow's checks: this keras-torch stack has none")


def torch_facts(**changes) -> TorchFacts:
    """What torch reports on an Apple Silicon Mac where MPS works, with the changes given."""
    found = TorchFacts(torch_version="2.15.0", mps_built=True, mps_available=True, cuda_devices=0, cpu_fallback=False)
    return dataclasses.replace(found, **changes)


def test_known_failure_signatures_get_their_cure():
    numpy2 = "A module that was compiled using NumPy 1.x cannot be run in NumPy 2.1.3 as it may crash."
    plugin = (
        "NotFoundError: dlopen(.../libmetal_plugin.dylib): Library not loaded: @rpath/_pywrap_tensorflow_internal.so"
    )
    xla = "Could not find compiler for platform METAL: NOT_FOUND"
    assert "numpy 1" in signatures.diagnose(numpy2)[0] and "numpy<2" in signatures.diagnose(numpy2)[1]
    assert "tensorflow-metal cannot load" in signatures.diagnose(plugin)[0]
    assert "XLA" in signatures.diagnose(xla)[0]
    assert signatures.diagnose("everything is fine") is None


def test_the_verdict_names_the_first_problem_and_its_cure():
    findings = [
        Finding("python", "ok", "3.11"),
        Finding("numpy", "problem", "2.3.0 is not numpy<2", "fix it"),
    ]
    assert doctor.verdict(findings) == "PROBLEM (numpy): 2.3.0 is not numpy<2 -> cure: fix it"
    assert doctor.verdict([Finding("placement", "ok", "expected cpu")]) == "healthy: expected cpu"
    checked = [Finding("placement", "ok", "expected metal"), Finding("numerics (MLP)", "ok", "agrees")]
    assert doctor.verdict(checked) == "healthy: expected metal; numerics agree: (MLP)"


@tensorflow_only
def test_on_a_keras_3_stack_the_doctor_checks_tf_keras_of_the_stacks_tensorflow():
    from {{ cookiecutter.package_name }}.runtime.tensorflow_checks import check_tf_keras

    keras3 = SimpleNamespace(keras=3, tensorflow="2.19.1")
    assert check_tf_keras(SimpleNamespace(keras=2, tensorflow="2.15.1"), None) is None
    assert check_tf_keras(keras3, "2.19.0").status == "ok"
    for installed, found in ((None, "not installed"), ("2.16.0", "2.16.0 is installed, not 2.19.x")):
        finding = check_tf_keras(keras3, installed)
        assert finding.status == "problem" and finding.detail.startswith(found)
        assert finding.cure == "python3 bootstrap.py (it installs requirements-tf-keras.lock)"


def test_mps_is_reported_built_and_available_or_why_not():
    ok = torch_checks.check_mps(APPLE_SILICON, torch_facts())
    assert ok.status == "ok" and "available on macOS 14.5" in ok.detail
    for missing in (torch_facts(mps_available=False), torch_facts(mps_built=False, mps_available=False)):
        finding = torch_checks.check_mps(APPLE_SILICON, missing)
        with pytest.raises(torch_devices.PlacementError) as refused:  # the device decision's own words
            torch_devices.resolve("metal", APPLE_SILICON, missing, require_accelerator=True)
        assert (finding.status, finding.detail) == ("problem", str(refused.value)) and "device=cpu" in finding.cure
    elsewhere = torch_checks.check_mps(LINUX, torch_facts(mps_built=False, mps_available=False))
    assert elsewhere.status == "info" and "Linux x86_64" in elsewhere.detail


def test_macos_13_is_a_machine_problem_for_keras_torch():
    torch_stack = dataclasses.replace(STACK, macos_min="14.0", requirements={"apple_silicon": ["torch==2.15.0"]})
    finding = check_machine(Machine("Darwin", "arm64", rosetta=False, macos_version="13.6"), torch_stack)
    assert finding.status == "problem" and "macOS 13.6 is too old" in finding.detail and "14.0" in finding.detail


@pytest.mark.parametrize(
    ("environ", "target", "allowed", "status", "words"),
    [
        ({}, torch_devices.MPS, False, "ok", "is not set: an op MPS lacks stops the run"),
        ({FALLBACK_VARIABLE: "0"}, torch_devices.MPS, False, "ok", "'0' (off)"),
        ({FALLBACK_VARIABLE: "1"}, torch_devices.MPS, False, "problem", "could not assert that it trains on MPS"),
        ({FALLBACK_VARIABLE: "1"}, torch_devices.MPS, True, "info", "allowed by device.allow_cpu_fallback=true"),
        ({FALLBACK_VARIABLE: "1"}, torch_devices.CPU, False, "info", "changes nothing without MPS"),
    ],
)
def test_the_mps_fallback_variable_is_a_problem_only_where_runs_assert_mps(environ, target, allowed, status, words):
    found = torch_facts(cpu_fallback=torch_devices.fallback_enabled(environ))
    finding = torch_checks.check_fallback(target, found, environ, allowed)
    assert (finding.check, finding.status) == ("mps fallback", status) and words in finding.detail
    if status == "problem":
        assert finding.cure.startswith(f"unset {FALLBACK_VARIABLE}")
        assert "device.allow_cpu_fallback=true" in finding.cure


def test_without_an_accelerator_the_doctor_says_why_numerics_did_not_run():
    def never(recipe, batches):
        raise AssertionError("the check must not run on the CPU without --numerics")

    check = DeviceCheck([], torch_devices.CPU, agreement=never)  # the CPU target: its name is what counts
    findings, records = doctor.check_numerics(check, APPLE_SILICON, STACK, [], force=False)
    assert [(f.check, f.status) for f in findings] == [("numerics", "info")]
    assert "the CPU is the reference" in findings[0].detail
    assert all(not record["ran"] for record in records.values())


@pytest.fixture(scope="module")
def examined(tf):
    """One real examination of this environment, numerics included (--numerics: on the CPU too)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = doctor.main(["--json", "--numerics"])
    return status, json.loads(out.getvalue())


def test_this_environment_is_healthy(examined):
    status, report = examined
    assert status == 0, report["verdict"]
    assert set(report) == {"stack", "experimental", "healthy", "verdict", "findings", "numerics"}
    assert report["healthy"] and report["stack"] == STACK.id
    checks = {finding["check"] for finding in report["findings"]}
    assert {"machine", "python", "devices", "placement", "timing"} <= checks
    # --numerics: the configured model and the Dense-ReLU MLP, checked against the CPU
    assert {"numerics (configured model)", "numerics (Dense-ReLU MLP)"} <= checks
    if backend.is_torch():
        assert {"import torch", "keras backend", "mps", "mps fallback", "torch", "keras"} <= checks
        assert not checks & {"import tensorflow", "tf-keras", "metal pair", "tensorboard"}
        assert "tensorflow" not in sys.modules, "the doctor of a keras-torch project never imports TensorFlow"
        compared = torch_devices.CPU.device
    else:
        assert "import tensorflow" in checks
        assert ("tf-keras" in checks) == (STACK.keras >= 3)  # bootstrap installed requirements-tf-keras.lock
        compared = "/CPU:1"  # a second logical CPU
    for record in report["numerics"].values():
        assert record["ran"] and record["passed"] and record["target"] == compared


def test_a_disagreeing_device_is_a_problem_with_the_known_causes_and_cures(tf):
    """The real check of this stack, fed a recipe whose optimizer ignores the learning rate it is given."""
    check = doctor.check_framework(this_machine(), STACK, [], force_numerics=True)

    def lr_ignored(recipe, batches):
        ignores_lr = dataclasses.replace(recipe, make_optimizer=lambda _lr: recipe.make_optimizer(recipe.learning_rate))
        return check.agreement(ignores_lr, batches)

    faulty = DeviceCheck(check.findings, check.target, agreement=lr_ignored)
    findings, records = doctor.check_numerics(faulty, APPLE_SILICON, STACK, [], force=True)
    assert [f.status for f in findings] == ["problem", "problem"]
    assert "learning rate is not applied" in findings[0].detail and "Known for the" in findings[0].detail
    assert findings[0].cure.startswith("train on the CPU (device=cpu)") and "check_numerics=false" in findings[0].cure
    assert all(record["ran"] and not record["passed"] for record in records.values())
    verdict = doctor.verdict(findings)
    assert verdict.startswith("PROBLEM (numerics (configured model)): cpu ") and " disagrees with " in verdict
