{%- set on_torch = cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" -%}
"""The keras-torch stack's device decisions (runtime/torch_devices.py) with fake machines, fake torch facts and
fake models: runs everywhere, without torch{% if on_torch %}; then the real placement on this machine's CPU{% endif %}."""

import types

import pytest

from {{ cookiecutter.package_name }}.runtime.accelerator import PlacementError
from {{ cookiecutter.package_name }}.runtime.stack import Machine
from {{ cookiecutter.package_name }}.runtime.torch_devices import (
    CPU,
    CUDA,
    FALLBACK_VARIABLE,
    MPS,
    TorchFacts,
    assert_placement,
    device_problem,
    device_type,
    facts,
    fallback_enabled,
    fallback_problem,
    resolve,
)

APPLE_SILICON = Machine("Darwin", "arm64", rosetta=False, macos_version="14.5")
OLD_MACOS = Machine("Darwin", "arm64", rosetta=False, macos_version="13.6")
ROSETTA = Machine("Darwin", "x86_64", rosetta=True, macos_version="14.5")
INTEL_MAC = Machine("Darwin", "x86_64", rosetta=False, macos_version="14.5")
LINUX = Machine("Linux", "x86_64", rosetta=False, macos_version="")


def torch_says(mps_built=False, mps_available=False, cuda_devices=0, cpu_fallback=False) -> TorchFacts:
    return TorchFacts("2.15.0", mps_built, mps_available, cuda_devices, cpu_fallback)


MPS_READY = torch_says(mps_built=True, mps_available=True)  # torch on an Apple Silicon Mac, macOS 14+
MPS_UNUSABLE = torch_says(mps_built=True)  # the macOS arm64 wheel where MPS cannot run (old macOS, a VM)
ONE_CUDA_GPU = torch_says(cuda_devices=1)
CPU_ONLY = torch_says()


def pick(requested, machine, found, require=True):
    return resolve(requested, machine, found, require_accelerator=require)


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_the_device_strings_are_torchs():
    assert (MPS.device, CUDA.device, CPU.device) == ("mps:0", "cuda:0", "cpu")
    assert [device_type(device) for device in ("mps:0", "cuda:1", "cpu")] == ["MPS", "CUDA", "CPU"]


@pytest.mark.parametrize("requested", ["auto", "metal"])
def test_apple_silicon_with_mps_trains_on_mps(requested):
    assert pick(requested, APPLE_SILICON, MPS_READY) == MPS


def test_auto_prefers_a_cuda_gpu_torch_sees_and_cuda_asks_for_one():
    assert pick("auto", LINUX, ONE_CUDA_GPU) == CUDA
    assert pick("cuda", LINUX, ONE_CUDA_GPU) == CUDA


def test_without_a_gpu_auto_is_the_cpu_and_cuda_is_refused():
    assert pick("auto", LINUX, CPU_ONLY) == CPU
    with pytest.raises(PlacementError, match=r"torch sees no CUDA GPU .*nvidia-smi") as refused:
        pick("cuda", LINUX, CPU_ONLY)
    one_line(refused)


@pytest.mark.parametrize("machine", [LINUX, INTEL_MAC])
def test_metal_off_apple_silicon_is_refused_in_one_line_naming_mps(machine):
    with pytest.raises(PlacementError, match=r"device=metal means the Apple GPU through MPS") as refused:
        pick("metal", machine, ONE_CUDA_GPU)
    assert machine.describe() in one_line(refused)


@pytest.mark.parametrize("requested", ["auto", "metal"])
def test_rosetta_is_refused_with_the_fix(requested):
    with pytest.raises(PlacementError, match=r"MPS needs a native arm64 Python.*Rosetta") as refused:
        pick(requested, ROSETTA, MPS_READY)
    one_line(refused)


def test_cuda_on_macos_and_unknown_devices_are_refused_before_torch():
    assert "macOS has no CUDA" in device_problem("cuda", APPLE_SILICON)
    assert "unknown; choose one of auto, metal, cuda, cpu" in device_problem("tpu", LINUX)
    assert device_problem("metal", APPLE_SILICON) is None and device_problem("auto", LINUX) is None
    with pytest.raises(PlacementError, match="macOS has no CUDA"):
        pick("cuda", APPLE_SILICON, ONE_CUDA_GPU)


@pytest.mark.parametrize(
    ("machine", "found", "cause"),
    [
        (OLD_MACOS, MPS_UNUSABLE, "uses MPS on macOS 14.0 or newer; this Mac runs macOS 13.6"),
        (APPLE_SILICON, MPS_UNUSABLE, "cannot use it here (a macOS VM without a GPU?)"),
        (APPLE_SILICON, CPU_ONLY, "was built without MPS"),
    ],
)
def test_mps_that_cannot_run_is_an_error_naming_the_cause(machine, found, cause):
    for requested in ("auto", "metal"):
        with pytest.raises(PlacementError, match=r"^MPS: torch 2\.15\.0 ") as refused:
            pick(requested, machine, found)
        assert cause in one_line(refused) and "device=cpu" in one_line(refused)


def test_mps_that_cannot_run_falls_back_to_the_cpu_when_the_accelerator_is_optional(caplog):
    assert pick("auto", OLD_MACOS, MPS_UNUSABLE, require=False) == CPU
    assert "Falling back to the CPU (device.require_accelerator=false)" in caplog.text
    with pytest.raises(PlacementError, match="MPS"):  # device=metal asked for MPS by name: never the CPU instead
        pick("metal", OLD_MACOS, MPS_UNUSABLE, require=False)


def test_cpu_is_always_possible():
    for machine in (APPLE_SILICON, OLD_MACOS, ROSETTA, INTEL_MAC, LINUX):
        assert pick("cpu", machine, torch_says(True, True, 2, True)) == CPU


@pytest.mark.parametrize(
    ("value", "enabled"),
    [("1", True), ("2", True), (" 1", True), ("0", False), ("", False), (None, False), ("yes", False)],
)
def test_the_fallback_variable_is_read_as_torch_reads_it(value, enabled):
    assert fallback_enabled({} if value is None else {FALLBACK_VARIABLE: value}) is enabled


def test_the_cpu_fallback_is_refused_on_mps_unless_allowed():
    with_fallback = torch_says(True, True, cpu_fallback=True)
    problem = fallback_problem(MPS, with_fallback, allow_cpu_fallback=False)
    assert problem.startswith(f"{FALLBACK_VARIABLE}=1 lets torch run the operations MPS lacks on the CPU")
    assert "device.allow_cpu_fallback=true" in problem and "\n" not in problem
    assert fallback_problem(MPS, with_fallback, allow_cpu_fallback=True) is None
    assert fallback_problem(MPS, MPS_READY, allow_cpu_fallback=False) is None
    assert fallback_problem(CPU, with_fallback, allow_cpu_fallback=False) is None  # nothing to fall back from
    assert fallback_problem(CUDA, with_fallback, allow_cpu_fallback=False) is None


def fake_torch(mps_built=True, mps_available=True, cuda=0, probe_lands_on=None):
    """torch as facts() and assert_placement() use it: a probe made on a device reports that device, or
    `probe_lands_on` (an op that ran elsewhere)."""

    class Tensor:
        def __init__(self, device):
            self.device = probe_lands_on or device

        def __matmul__(self, other):
            return self

    return types.SimpleNamespace(
        __version__="2.15.0",
        backends=types.SimpleNamespace(
            mps=types.SimpleNamespace(is_built=lambda: mps_built, is_available=lambda: mps_available)
        ),
        cuda=types.SimpleNamespace(is_available=lambda: cuda > 0, device_count=lambda: cuda),
        ones=lambda shape, device: Tensor(device),
    )


def test_facts_reads_what_torch_and_the_environment_say():
    assert facts(fake_torch(), {FALLBACK_VARIABLE: "1"}) == torch_says(True, True, 0, True)
    assert facts(fake_torch(mps_built=False, mps_available=False, cuda=2), {}) == torch_says(False, False, 2, False)


def fake_model(*devices):
    variables = [
        types.SimpleNamespace(path=f"mlp/dense_{i}/kernel", value=types.SimpleNamespace(device=device))
        for i, device in enumerate(devices)
    ]
    return types.SimpleNamespace(trainable_variables=variables)


def test_placement_holds_when_every_variable_and_the_probe_are_on_the_target():
    assert assert_placement(fake_torch(), fake_model("mps:0", "mps:0"), MPS) == "mps:0"
    assert assert_placement(fake_torch(), fake_model("cpu"), CPU) == "cpu"


def test_a_variable_on_another_device_is_named():
    with pytest.raises(PlacementError, match=r"1 of 3 trainable variables are not on metal \(mps:0\): ") as refused:
        assert_placement(fake_torch(), fake_model("mps:0", "cpu", "mps:0"), MPS)
    assert "mlp/dense_1/kernel is on cpu" in one_line(refused)


def test_a_probe_that_lands_elsewhere_is_refused():
    with pytest.raises(PlacementError, match=r"A probe op placed on metal \(mps:0\) ran on cpu"):
        assert_placement(fake_torch(probe_lands_on="cpu"), fake_model("mps:0"), MPS)


def test_a_probe_that_cannot_run_is_refused_with_torchs_first_line():
    broken = fake_torch()

    def ones(shape, device):
        raise RuntimeError("The MPS backend is supported on MacOS 14.0+.\nmore detail")

    broken.ones = ones
    with pytest.raises(PlacementError, match=r"could not run on metal \(mps:0\): The MPS backend is supported") as no:
        assert_placement(broken, fake_model("mps:0"), MPS)
    one_line(no)
{%- if on_torch %}


def test_a_model_built_in_keras_cpu_scope_is_placed_on_the_cpu(compose_config):
    """For real, on this machine: the configured model, built in Keras's device scope for the CPU, has every
    variable on the CPU, and a probe op lands there (what train asserts with device=cpu)."""
    import torch

    from {{ cookiecutter.package_name }}.runtime import backend
    from {{ cookiecutter.package_name }}.runtime.build import recipe

    keras = backend.keras()
    with keras.device(CPU.device):
        model = recipe(compose_config("model=mlp"), apple_silicon=False).build_model()
    assert {str(variable.value.device) for variable in model.trainable_variables} == {"cpu"}
    assert assert_placement(torch, model, CPU) == "cpu"
    with pytest.raises(PlacementError, match=r"trainable variables are not on metal \(mps:0\): .* is on cpu"):
        assert_placement(torch, model, MPS)
{%- endif %}
