"""The placement decisions with fake machines and fake GPU lists: runs everywhere, no TensorFlow."""

import types

import pytest

from {{ cookiecutter.package_name }}.runtime.accelerator import (
    CPU,
    CUDA,
    METAL,
    MetalPlugin,
    PlacementError,
    device_problem,
    device_type,
    is_metal,
    misplaced,
    plugin_conflict,
    resolve,
)
from {{ cookiecutter.package_name }}.runtime.stack import Machine, load_stack

APPLE_SILICON = Machine("Darwin", "arm64", rosetta=False, macos_version="14.5")
ROSETTA = Machine("Darwin", "x86_64", rosetta=True, macos_version="14.5")
INTEL_MAC = Machine("Darwin", "x86_64", rosetta=False, macos_version="13.6")
LINUX = Machine("Linux", "x86_64", rosetta=False, macos_version="")

PROVIDERS = load_stack().metal_providers  # every stack's table names both Metal plug-ins
APPLE_PLUGIN = MetalPlugin("tensorflow-metal", "1.1.0", tuple(PROVIDERS["tensorflow-metal"]["device_names"]))
COMMUNITY_PLUGIN = MetalPlugin(
    "tensorflow-metal-plugin", "0.4.1", tuple(PROVIDERS["tensorflow-metal-plugin"]["device_names"])
)

METAL_GPU = {"device_name": "METAL"}  # Apple's tensorflow-metal
CHIP_GPU = {"device_name": "Apple M4 Max"}  # the community tensorflow-metal-plugin names the chip
CUDA_GPU = {"device_name": "NVIDIA A100-SXM4-40GB", "compute_capability": (8, 0)}


def pick(requested, machine, gpus, plugin=APPLE_PLUGIN, require=True):
    return resolve(
        requested,
        machine,
        gpus,
        require_accelerator=require,
        plugins=[plugin] if plugin else [],
        tensorflow_version="2.16.2",
    )


@pytest.mark.parametrize("requested", ["auto", "metal"])
def test_apple_silicon_with_the_plugin_trains_on_metal(requested):
    assert pick(requested, APPLE_SILICON, [METAL_GPU]) == METAL


def test_apple_silicon_with_the_community_plugin_trains_on_metal():
    assert pick("auto", APPLE_SILICON, [CHIP_GPU], plugin=COMMUNITY_PLUGIN) == METAL
    assert pick("metal", APPLE_SILICON, [{"device_name": "Metal GPU"}], plugin=COMMUNITY_PLUGIN) == METAL


@pytest.mark.parametrize(
    ("details", "plugin", "metal"),
    [
        (METAL_GPU, APPLE_PLUGIN, True),
        (CHIP_GPU, COMMUNITY_PLUGIN, True),
        ({"device_name": "Apple M1"}, COMMUNITY_PLUGIN, True),
        ({"device_name": "Metal GPU"}, COMMUNITY_PLUGIN, True),
        (CHIP_GPU, APPLE_PLUGIN, False),  # Apple's plug-in never names the chip
        (METAL_GPU, COMMUNITY_PLUGIN, False),
        (CUDA_GPU, COMMUNITY_PLUGIN, False),
        ({"device_name": "SomethingElse"}, APPLE_PLUGIN, False),
        ({"device_name": ""}, COMMUNITY_PLUGIN, False),
        ({}, APPLE_PLUGIN, False),
        (METAL_GPU, None, False),  # no plug-in installed: nothing is the Metal GPU
    ],
)
def test_metal_is_recognised_for_either_provider_and_nothing_else(details, plugin, metal):
    assert is_metal(details, [plugin] if plugin else []) is metal


def test_apple_silicon_without_the_plugin_names_the_missing_package():
    with pytest.raises(PlacementError, match="no Metal plug-in .* is installed"):
        pick("auto", APPLE_SILICON, [], plugin=None)


def test_plugin_that_failed_to_load_is_reported_as_such():
    with pytest.raises(PlacementError, match="did not load.*Library not loaded"):
        pick("metal", APPLE_SILICON, [], plugin=APPLE_PLUGIN)
    with pytest.raises(PlacementError, match="did not load.*version it was built for.*TF_DISABLE_METAL"):
        pick("metal", APPLE_SILICON, [], plugin=COMMUNITY_PLUGIN)


def test_a_gpu_that_is_not_metal_does_not_count_as_metal():
    with pytest.raises(PlacementError, match="shows no Metal GPU"):
        pick("metal", APPLE_SILICON, [{"device_name": "SomethingElse"}])
    with pytest.raises(PlacementError, match="shows no Metal GPU"):
        pick("metal", APPLE_SILICON, [CUDA_GPU], plugin=COMMUNITY_PLUGIN)


def test_two_metal_plugins_are_refused_before_tensorflow_naming_the_one_to_remove():
    cause, cure = plugin_conflict([APPLE_PLUGIN, COMMUNITY_PLUGIN], "tensorflow-metal-plugin")
    assert "aborts at import" in cause and cure.startswith("`pip uninstall tensorflow-metal` (this stack uses")
    assert plugin_conflict([COMMUNITY_PLUGIN], "tensorflow-metal-plugin") is None
    assert plugin_conflict([], "tensorflow-metal") is None


def test_auto_may_fall_back_to_cpu_when_the_accelerator_is_optional(caplog):
    assert pick("auto", APPLE_SILICON, [], plugin=None, require=False) == CPU
    assert "Falling back to the CPU" in caplog.text


@pytest.mark.parametrize("requested", ["auto", "metal"])
def test_rosetta_is_refused_with_the_fix(requested):
    with pytest.raises(PlacementError, match="Rosetta.*arm64"):
        pick(requested, ROSETTA, [])


def test_intel_mac_auto_uses_the_cpu_and_refuses_metal():
    assert pick("auto", INTEL_MAC, []) == CPU
    with pytest.raises(PlacementError, match="Intel Mac"):
        pick("metal", INTEL_MAC, [])


def test_linux_auto_prefers_a_visible_cuda_gpu():
    assert pick("auto", LINUX, [CUDA_GPU], plugin=None) == CUDA
    assert pick("cuda", LINUX, [CUDA_GPU], plugin=None) == CUDA


def test_linux_without_gpu_uses_cpu_and_refuses_cuda_and_metal():
    assert pick("auto", LINUX, [], plugin=None) == CPU
    with pytest.raises(PlacementError, match="no CUDA GPU"):
        pick("cuda", LINUX, [], plugin=None)
    with pytest.raises(PlacementError, match="needs an Apple Silicon Mac"):
        pick("metal", LINUX, [], plugin=None)


def test_cpu_is_always_possible():
    for machine in (APPLE_SILICON, ROSETTA, INTEL_MAC, LINUX):
        assert pick("cpu", machine, [METAL_GPU, CUDA_GPU]) == CPU


def test_cuda_on_macos_and_unknown_devices_are_refused_before_tensorflow():
    assert "macOS has no CUDA" in device_problem("cuda", APPLE_SILICON, [APPLE_PLUGIN])
    assert "unknown" in device_problem("tpu", LINUX, [])
    assert device_problem("metal", APPLE_SILICON, [APPLE_PLUGIN]) is None


@pytest.mark.parametrize(
    ("device", "kind"),
    [
        ("/job:localhost/replica:0/task:0/device:GPU:0", "GPU"),
        ("/job:localhost/replica:0/task:0/device:CPU:0", "CPU"),
        ("/GPU:0", "GPU"),
        ("", ""),
    ],
)
def test_device_type_reads_tensorflow_device_strings(device, kind):
    assert device_type(device) == kind


def keras3_variable(name, device):
    # Keras 3: .device raises AttributeError; the tf.Variable behind .value has it.
    return types.SimpleNamespace(name=name, value=types.SimpleNamespace(device=device))


def keras2_variable(name, device):
    return types.SimpleNamespace(name=name, device=device)


def test_misplaced_finds_variables_off_the_target_in_both_keras_versions():
    gpu = "/job:localhost/replica:0/task:0/device:GPU:0"
    cpu = "/job:localhost/replica:0/task:0/device:CPU:0"
    variables = [keras3_variable("kernel", gpu), keras2_variable("bias", cpu)]
    assert misplaced(variables, METAL) == [("bias", cpu)]
    assert misplaced(variables, CPU) == [("kernel", gpu)]
    assert misplaced([keras3_variable("kernel", gpu)], METAL) == []
