"""The doctor's judgements that need no framework imported, with fake installs and fake environments."""

import pytest
from packaging.requirements import Requirement

from {{ cookiecutter.package_name }}.runtime import environment
from {{ cookiecutter.package_name }}.runtime.stack import Machine, load_stack

STACK = load_stack()
APPLE_SILICON = Machine("Darwin", "arm64", rosetta=False, macos_version="15.1")
LINUX = Machine("Linux", "x86_64", rosetta=False, macos_version="")
# The Metal plug-ins and XLA flags are TensorFlow's: the doctor checks them on TensorFlow stacks only.
tensorflow_checks = pytest.mark.skipif(
    STACK.backend == "torch", reason="TensorFlow's checks (Metal plug-ins, XLA): this keras-torch stack has none"
)


@tensorflow_checks
@pytest.mark.parametrize(
    ("metal", "tf_version", "status"),
    [
        ("1.2.0", "2.19.1", "ok"),
        ("1.1.0", "2.18.1", "problem"),
        ("1.2.0", "2.21.0", "problem"),
        ("1.1.0", "2.16.2", "ok"),
    ],
)
def test_the_installed_metal_pair_is_checked_against_the_loading_matrix(metal, tf_version, status):
    finding = environment.check_metal_pair(STACK, {"tensorflow-metal": metal, "tensorflow": tf_version})
    assert finding.status == status
    if status == "problem":
        assert "uninstall tensorflow-metal" in finding.cure


def test_versions_outside_the_stack_are_problems_with_the_cure():
    python = STACK.pythons[0]
    mac = {"python_version": python, "sys_platform": "darwin", "platform_machine": "arm64"}
    pins = [Requirement(text) for text in STACK.requirements["apple_silicon"]]
    pinned = {
        req.name: str(req.specifier).removeprefix("==") for req in pins if not req.marker or req.marker.evaluate(mac)
    }
    numpy_bound = Requirement(next(text for text in STACK.common if text.startswith("numpy")))
    inside, outside = (
        [v for v in ("1.26.4", "2.2.6", "1.25.0", "2.3.0") if (v in numpy_bound.specifier) is wanted][0]
        for wanted in (True, False)
    )
    healthy = dict(pinned, numpy=inside)
    assert all(f.status == "ok" for f in environment.check_versions(STACK, APPLE_SILICON, healthy, python))

    broken = dict(healthy, numpy=outside)
    (finding,) = [f for f in environment.check_versions(STACK, APPLE_SILICON, broken, python) if f.status == "problem"]
    assert finding.check == "numpy" and str(numpy_bound) in finding.detail and "bootstrap.py" in finding.cure

    framework = STACK.metal_provider or "torch"  # what gives this stack its Apple GPU: a Metal plug-in, or torch
    missing = dict(healthy, **{framework: None})
    problems = [f for f in environment.check_versions(STACK, APPLE_SILICON, missing, python) if f.status == "problem"]
    assert [f.check for f in problems] == [framework]


@tensorflow_checks
def test_xla_forced_on_through_the_environment_is_a_problem_on_metal_only():
    flags = {"TF_XLA_FLAGS": "--tf_xla_auto_jit=2"}
    finding = environment.check_xla(APPLE_SILICON, flags)
    assert finding.status == "problem" and "XLA" in finding.detail and "TF_XLA_FLAGS" in finding.cure
    assert environment.check_xla(APPLE_SILICON, {}) is None
    assert environment.check_xla(Machine("Linux", "x86_64", False, ""), flags) is None


@tensorflow_checks
def test_the_community_plugin_is_checked_against_the_tensorflow_it_was_built_for():
    versions = {"tensorflow-metal-plugin": "0.4.1", "tensorflow": "2.21.0"}
    ok = environment.check_metal_pair(STACK, versions)
    assert ok.status == "ok" and "built against TensorFlow 2.21.0" in ok.detail and "community" in ok.detail

    upgraded = environment.check_metal_pair(STACK, dict(versions, tensorflow="2.21.1"))
    assert upgraded.status == "problem" and "built for TensorFlow 2.21.0, but 2.21.1" in upgraded.detail
    assert "rebuilds the plug-in" in upgraded.cure

    # bootstrap's record of the actual build wins over the version the plug-in declares
    rebuilt = environment.check_metal_pair(STACK, dict(versions, tensorflow="2.21.1"), {"tensorflow": "2.21.1"})
    assert rebuilt.status == "ok"


@tensorflow_checks
def test_both_metal_plugins_installed_is_a_problem_naming_the_one_to_remove():
    both = {"tensorflow-metal": "1.2.0", "tensorflow-metal-plugin": "0.4.1", "tensorflow": "2.21.0"}
    finding = environment.check_metal_pair(STACK, both)
    assert finding.status == "problem" and "aborts at import" in finding.detail
    other = "tensorflow-metal-plugin" if STACK.metal_provider == "tensorflow-metal" else "tensorflow-metal"
    assert finding.cure.startswith(f"`pip uninstall {other}`")


@tensorflow_checks
def test_no_metal_plugin_is_information_only():
    assert environment.check_metal_pair(STACK, {"tensorflow-cpu": "2.21.0"}).status == "info"


@tensorflow_checks
def test_the_community_plugin_says_plainly_that_optimizers_run_on_the_cpu():
    finding = environment.check_metal_limits(STACK, {"tensorflow-metal-plugin": "0.4.1", "tensorflow": "2.21.0"})
    assert finding.status == "info" and "optimizer updates run on the CPU" in finding.detail
    assert "bench" in finding.detail and "2.22" in finding.detail
    assert environment.check_metal_limits(STACK, {"tensorflow-metal": "1.2.0", "tensorflow": "2.19.1"}) is None


@tensorflow_checks
def test_tf_disable_metal_is_a_problem_on_apple_silicon():
    finding = environment.check_metal_switch(APPLE_SILICON, {"TF_DISABLE_METAL": "1"})
    assert finding.status == "problem" and "TF_DISABLE_METAL=1" in finding.detail
    assert "unset TF_DISABLE_METAL" in finding.cure
    assert environment.check_metal_switch(APPLE_SILICON, {}) is None
    assert environment.check_metal_switch(APPLE_SILICON, {"TF_DISABLE_METAL": "0"}) is None
    assert environment.check_metal_switch(LINUX, {"TF_DISABLE_METAL": "1"}) is None


@pytest.mark.parametrize("backend", sorted(environment.FRAMEWORKS))
def test_a_framework_without_bytecode_where_python_writes_none_is_named_with_the_cure(tmp_path, backend):
    import py_compile

    module, name = environment.FRAMEWORKS[backend]

    init = tmp_path / module / "__init__.py"
    init.parent.mkdir()
    init.write_text("")
    never_cached = {"PYTHONDONTWRITEBYTECODE": "1"}
    finding = environment.check_bytecode(never_cached, str(init), backend)
    assert finding.status == "info" and f"PYTHONDONTWRITEBYTECODE is set and {name} here has no" in finding.detail
    assert f"import {module} takes about twice as long" in finding.detail
    assert "re-run `python3 bootstrap.py`" in finding.detail and finding.cure == "python3 bootstrap.py"
    assert environment.check_bytecode({}, str(init), backend) is None  # the first import writes the bytecode itself
    assert environment.check_bytecode({"PYTHONDONTWRITEBYTECODE": ""}, str(init), backend) is None  # empty is unset
    assert environment.check_bytecode(never_cached, None, backend) is None  # none installed: check_versions says so
    py_compile.compile(str(init), doraise=True)  # the .pyc an install with bytecode writes
    assert environment.check_bytecode(never_cached, str(init), backend) is None


def test_the_stacks_framework_is_found_in_this_environment():
    module = environment.FRAMEWORKS[STACK.backend][0]
    assert environment.framework_source(STACK.backend).endswith(f"/{module}/__init__.py")
