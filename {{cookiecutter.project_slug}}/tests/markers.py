"""RunIf-style markers: tests that need hardware this machine may not have skip with the reason."""

import pytest

from {{ cookiecutter.package_name }}.runtime import backend
from {{ cookiecutter.package_name }}.runtime.stack import sysctl, this_machine

MACHINE = this_machine()
# macOS VMs (CI runners included) have no Metal GPU; kern.hv_vmm_present is 1 inside one.
IN_MACOS_VM = MACHINE.system == "Darwin" and sysctl("kern.hv_vmm_present") == "1"
ON_APPLE_SILICON = MACHINE.system == "Darwin" and (MACHINE.arch == "arm64" or MACHINE.rosetta)

# The Apple GPU: through a Metal plug-in (TensorFlow stacks) or MPS (keras-torch); the same Macs have both.
GPU_PATH = "MPS" if backend.is_torch() else "Metal"
metal_only = pytest.mark.skipif(
    not ON_APPLE_SILICON or IN_MACOS_VM,
    reason=(
        f"{GPU_PATH} tests need an Apple Silicon Mac (not a macOS VM); this machine is "
        f"{MACHINE.describe()}{' in a VM' if IN_MACOS_VM else ''}"
    ),
)
not_on_apple_silicon = pytest.mark.skipif(
    ON_APPLE_SILICON, reason="checks the error for device=metal off Apple Silicon; this is an Apple Silicon Mac"
)
tensorflow_only = pytest.mark.skipif(
    backend.is_torch(), reason="TensorFlow's own path; the keras-torch stack has no TensorFlow"
)
torch_only = pytest.mark.skipif(not backend.is_torch(), reason="the keras-torch stack's own path (Keras on PyTorch)")
