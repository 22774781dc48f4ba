"""The doctor: failure signatures, the verdict, the numerics check, and one real examination of this environment."""

import json
from types import SimpleNamespace

from {{ cookiecutter.package_name }} import doctor
from {{ cookiecutter.package_name }}.runtime import signatures
from {{ cookiecutter.package_name }}.runtime.environment import Finding
from {{ cookiecutter.package_name }}.runtime.stack import Machine, load_stack

STACK = load_stack()
APPLE_SILICON = Machine("Darwin", "arm64", rosetta=False, macos_version="14.5")


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


def test_on_a_keras_3_stack_the_doctor_checks_tf_keras_of_the_stacks_tensorflow():
    keras3 = SimpleNamespace(keras=3, tensorflow="2.19.1")
    assert doctor.check_tf_keras(SimpleNamespace(keras=2, tensorflow="2.15.1"), None) is None
    assert doctor.check_tf_keras(keras3, "2.19.0").status == "ok"
    for installed, found in ((None, "not installed"), ("2.16.0", "2.16.0 is installed, not 2.19.x")):
        finding = doctor.check_tf_keras(keras3, installed)
        assert finding.status == "problem" and finding.detail.startswith(found)
        assert finding.cure == "python3 bootstrap.py (it installs requirements-tf-keras.lock)"


def test_this_environment_is_healthy(tf, capsys):
    status = doctor.main(["--json", "--numerics"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0, report["verdict"]
    assert report["healthy"] and report["stack"] == STACK.id
    checks = {finding["check"] for finding in report["findings"]}
    assert {"machine", "python", "import tensorflow", "devices", "placement", "timing"} <= checks
    assert ("tf-keras" in checks) == (STACK.keras >= 3)  # bootstrap installed requirements-tf-keras.lock
    # --numerics: the configured model and the Dense-ReLU MLP, checked against a second logical CPU
    assert {"numerics (configured model)", "numerics (Dense-ReLU MLP)"} <= checks
    for record in report["numerics"].values():
        assert record["ran"] and record["passed"] and record["target"] == "/CPU:1"


def test_without_an_accelerator_the_doctor_says_why_numerics_did_not_run(tf):
    from {{ cookiecutter.package_name }}.runtime.accelerator import CPU

    findings, records = doctor.check_numerics(tf, APPLE_SILICON, STACK, CPU, [], force=False)
    assert [(f.check, f.status) for f in findings] == [("numerics", "info")]
    assert "the CPU is the reference" in findings[0].detail
    assert all(not record["ran"] for record in records.values())


def test_a_disagreeing_device_is_a_problem_with_the_known_causes_and_cures(tf, monkeypatch):
    import dataclasses

    from {{ cookiecutter.package_name }}.runtime import numerics
    from {{ cookiecutter.package_name }}.runtime.accelerator import CPU

    real_agreement = numerics.agreement

    def lr_ignored_on_the_target(tf, recipe, batches, reference, target):
        ignores_lr = dataclasses.replace(recipe, make_optimizer=lambda _lr: recipe.make_optimizer(recipe.learning_rate))
        return real_agreement(tf, recipe, batches, reference, target, target_recipe=ignores_lr)

    monkeypatch.setattr(numerics, "agreement", lr_ignored_on_the_target)
    findings, records = doctor.check_numerics(tf, APPLE_SILICON, STACK, CPU, [], force=True)
    assert [f.status for f in findings] == ["problem", "problem"]
    assert "learning rate is not applied" in findings[0].detail and "Known for the" in findings[0].detail
    assert findings[0].cure.startswith("train on the CPU (device=cpu)") and "check_numerics=false" in findings[0].cure
    assert all(record["ran"] and not record["passed"] for record in records.values())
    assert doctor.verdict(findings).startswith("PROBLEM (numerics (configured model)): cpu /CPU:1 disagrees")
