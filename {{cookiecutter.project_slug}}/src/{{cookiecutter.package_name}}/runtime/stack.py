"""The project's stack (stack.json: Keras on TensorFlow or on PyTorch) and the facts about this machine that
decide what it can run.

Standard library only, and kept importable by old Pythons: bootstrap.py loads this file by path
before the package or any dependency is installed, so the checks exist once.
"""

from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

STACK_FILE = Path(__file__).with_name("stack.json")
# Written by bootstrap.py into .venv after it builds a Metal plug-in from source; read by the doctor.
PLUGIN_BUILD_RECORD = "metal-plugin-build.json"


@dataclass(frozen=True)
class Stack:
    id: str
    tensorflow: str | None  # None on a stack without TensorFlow (backend torch)
    keras: int
    pythons: tuple  # supported "3.X" versions, oldest first
    preferred_python: str
    macos_min: str
    requirements: dict  # platform key -> requirement strings
    unsupported: dict  # platform key -> why the stack has no build for it
    common: tuple  # requirements on every platform (the numpy bound)
    metal_loads: dict  # tensorflow-metal version -> TensorFlow "X.Y" versions it loads
    numerics_reports: tuple = ()  # public reports of wrong numbers on Metal with this stack
    alternatives: tuple = ()  # the other stacks' ids
    experimental: bool = False
    limits: tuple = ()  # what does not work yet (experimental stacks say so plainly)
    metal_provider: str | None = None  # the Metal plug-in this stack installs on Apple Silicon
    metal_providers: dict = field(default_factory=dict)  # every known Metal plug-in -> its facts
    build_from_source: tuple = ()  # distributions built at install on Apple Silicon, against the installed TF
    backend: str = "tensorflow"  # Keras's backend: "tensorflow", or "torch" (Keras on PyTorch, MPS on Apple Silicon)
    torch: str | None = None  # the PyTorch version of a torch-backend stack

    @property
    def title(self) -> str:
        return self.id + (" (EXPERIMENTAL)" if self.experimental else "")

    @property
    def framework(self) -> str:
        """The distribution (and import name) Keras runs on here: "tensorflow" or "torch"."""
        return "torch" if self.backend == "torch" else "tensorflow"

    @property
    def framework_name(self) -> str:
        return "PyTorch" if self.backend == "torch" else "TensorFlow"

    @property
    def apple_gpu(self) -> str:
        """What gives this stack the Apple GPU: its Metal plug-in, or PyTorch itself (MPS is built into its wheels)."""
        return f"PyTorch {self.torch}" if self.backend == "torch" else str(self.metal_provider)

    def supports_python(self, version: tuple) -> bool:
        return "{}.{}".format(*version[:2]) in self.pythons


def read_stack_file(path: Path = STACK_FILE) -> dict:
    """stack.json as data: the chosen stack id, the project's Python, the whole stack table and how
    the project was generated (template and answers, for a regenerate command)."""
    return json.loads(path.read_text(encoding="utf-8"))


def load_stack(path: Path = STACK_FILE) -> Stack:
    data = read_stack_file(path)
    entry = data["table"]["stacks"][data["chosen"]]
    return Stack(
        id=data["chosen"],
        tensorflow=entry["tensorflow"],
        keras=entry["keras"],
        pythons=tuple(entry["python"]),
        preferred_python=data["python_version"],
        macos_min=entry["macos_min"],
        requirements=entry["requirements"],
        unsupported=entry.get("unsupported", {}),
        common=tuple(entry["common"]),
        metal_loads=data["table"]["metal_loads"],
        numerics_reports=tuple(entry.get("numerics_reports", [])),
        alternatives=tuple(other for other in data["table"]["stacks"] if other != data["chosen"]),
        experimental=entry.get("experimental", False),
        limits=tuple(entry.get("limits", [])),
        metal_provider=entry.get("metal_provider"),
        metal_providers=data["table"]["metal_providers"],
        build_from_source=tuple(entry.get("build_from_source", [])),
        backend=entry.get("backend", "tensorflow"),
        torch=entry.get("torch"),
    )


@dataclass(frozen=True)
class Machine:
    system: str  # platform.system(): "Darwin", "Linux", "Windows"
    arch: str  # architecture of this Python process: "arm64", "x86_64", "aarch64"
    rosetta: bool  # an x86_64 process translated by Rosetta 2 on an Apple Silicon Mac
    macos_version: str  # "" off macOS

    @property
    def apple_silicon(self) -> bool:
        """A native arm64 process on an Apple Silicon Mac: the only place Metal works."""
        return self.system == "Darwin" and self.arch == "arm64" and not self.rosetta

    @property
    def platform_key(self) -> str | None:
        """The stack table's name for this platform, or None where no stack installs."""
        if self.system == "Darwin":
            return "apple_silicon" if self.arch == "arm64" else "intel_mac"
        if self.system == "Linux" and self.arch in ("x86_64", "aarch64"):
            return "linux_" + self.arch
        return None

    def describe(self) -> str:
        if self.system == "Darwin":
            kind = "Apple Silicon Mac" if (self.arch == "arm64" or self.rosetta) else "Intel Mac"
            translated = ", under Rosetta" if self.rosetta else ""
            return f"{kind} (macOS {self.macos_version}, {self.arch} Python{translated})"
        return f"{self.system} {self.arch}"


def sysctl(name: str) -> str:
    try:
        # macOS's sysctl by name (it lives in /usr/sbin, which may be off PATH's front); fixed arguments
        out = subprocess.run(["sysctl", "-in", name], capture_output=True, text=True, timeout=5)  # noqa: S603, S607 - see above
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def this_machine() -> Machine:
    system = platform.system()
    arch = platform.machine()
    # Under Rosetta platform.machine() says x86_64; sysctl.proc_translated is 1 for a translated
    # process, 0 for a native one, and missing on Intel Macs. hw.optional.arm64 is 1 on Apple Silicon
    # even under Rosetta, so an x86_64 process with it is translated whatever proc_translated said.
    rosetta = system == "Darwin" and (
        sysctl("sysctl.proc_translated") == "1" or (arch == "x86_64" and sysctl("hw.optional.arm64") == "1")
    )
    macos = platform.mac_ver()[0] if system == "Darwin" else ""
    return Machine(system=system, arch=arch, rosetta=rosetta, macos_version=macos)


def installed(distribution: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def version_tuple(text: str) -> tuple:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def machine_problem(machine: Machine, stack: Stack) -> str | None:
    """Why this machine cannot run the stack at all, with the fix; None when it can."""
    if machine.rosetta:
        why = (
            "PyTorch has no macOS x86_64 wheel and MPS needs a native process"
            if stack.backend == "torch"
            else "x86 TensorFlow has no Metal plug-in and crashes on AVX instructions"
        )
        return (
            f"This Python is an x86_64 build running under Rosetta on an Apple Silicon Mac: {why}. "
            "Use a native arm64 Python, e.g. "
            "/opt/homebrew/bin/python3 or `uv python install " + stack.preferred_python + "` in an arm64 "
            "terminal (check with: python3 -c 'import platform; print(platform.machine())' -> arm64)."
        )
    key = machine.platform_key
    if key is None:
        return (
            f"{machine.describe()} is not supported by the {stack.id} stack: it installs on macOS "
            "and Linux (x86_64, aarch64). On Windows use WSL2."
        )
    if key not in stack.requirements:
        why = stack.unsupported.get(key, f"no {stack.framework_name} build for it")
        return f"The {stack.id} stack does not install on {machine.describe()}: {why}."
    if key == "apple_silicon" and version_tuple(machine.macos_version) < version_tuple(stack.macos_min):
        return (
            f"macOS {machine.macos_version} is too old for {stack.apple_gpu} (it needs macOS "
            f"{stack.macos_min} or newer): update macOS in System Settings > General > Software Update, or "
            "choose a stack for older macOS."
        )
    return None
