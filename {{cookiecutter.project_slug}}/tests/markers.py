"""RunIf-style markers: tests that need hardware this machine may not have skip with the reason."""

import pytest

from {{ cookiecutter.package_name }}.runtime.stack import sysctl, this_machine

MACHINE = this_machine()
# macOS VMs (CI runners included) have no Metal GPU; kern.hv_vmm_present is 1 inside one.
IN_MACOS_VM = MACHINE.system == "Darwin" and sysctl("kern.hv_vmm_present") == "1"
ON_APPLE_SILICON = MACHINE.system == "Darwin" and (MACHINE.arch == "arm64" or MACHINE.rosetta)

metal_only = pytest.mark.skipif(
    not ON_APPLE_SILICON or IN_MACOS_VM,
    reason=(
        "Metal tests need an Apple Silicon Mac (not a macOS VM); this machine is "
        f"{MACHINE.describe()}{' in a VM' if IN_MACOS_VM else ''}"
    ),
)
not_on_apple_silicon = pytest.mark.skipif(
    ON_APPLE_SILICON, reason="checks the error for device=metal off Apple Silicon; this is an Apple Silicon Mac"
)
