"""What each declared dependency becomes on a stack: keep, replace, drop or flag, with the reason.

The TensorFlow, Keras and numpy lines always come from the stack table (stack.json); this module only
knows the packages around them. Facts are dated: the wheel table was read from PyPI's file lists and
the tensorflow-io / tensorflow-addons pins were resolved with uv for macOS arm64, 2026-11-28.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

TF_FLAVOURS = {
    "tensorflow",
    "tensorflow-gpu",
    "tensorflow-cpu",
    "tensorflow-intel",
    "tensorflow-macos",
    "tensorflow-metal",
    "intel-tensorflow",
    "tf-nightly",
    "tf-nightly-gpu",
    "tf-nightly-cpu",
    "tf-nightly-macos",
}
CUDA_NOTE = "CUDA libraries: there is no CUDA on a Mac; on Linux the project's requirements-cuda.lock brings them"
DEV_NOTE = "a test or lint tool: in requirements-dev.txt, not in the runtime requirements"
# Test, lint and packaging tools: the development list, never the runtime one (a name, or a prefix + "*").
DEV_TOOLS = (
    "pytest*",
    "flake8*",
    "pylint*",
    "pyflakes",
    "pycodestyle",
    "pydocstyle",
    "autopep8",
    "yapf",
    "black",
    "isort",
    "ruff",
    "mypy",
    "coverage",
    "codecov",
    "coveralls",
    "check-manifest",
    "tox",
    "nox",
    "pre-commit",
    "bandit",
    "twine",
    "nose",
    "nose2",
    "mock",
    "hypothesis",
)


def is_dev_tool(name: str) -> bool:
    return any(name.startswith(tool[:-1]) if tool.endswith("*") else name == tool for tool in DEV_TOOLS)


TOOLS_NOTE = "an installer tool, not a dependency"


@dataclass(frozen=True)
class Known:
    action: str
    note: str
    keras2: bool = False  # only the Keras 2 stack can run it: it decides the recommendation
    pins: dict = field(default_factory=dict)  # TensorFlow "X.Y" -> a requirement that works with it


KNOWN = {
    "tensorflow-addons": Known(
        "flag",
        "end of life (last release 0.23.0, 2023), built for TensorFlow <= 2.15 and Keras 2 only: move its "
        "layers, losses and optimizers to Keras (keras.optimizers.AdamW, keras.losses, KerasCV/KerasHub)",
        keras2=True,
        pins={"2.15": "tensorflow-addons==0.23.0"},
    ),
    "tensorflow-io": Known(
        "flag",
        "each release is built against one TensorFlow and breaks with the others (0.37.1 for 2.16, "
        "0.36.0 for 2.15; none for 2.17 or newer): prefer tf.data and keras.utils readers",
        pins={"2.16": "tensorflow-io==0.37.1", "2.15": "tensorflow-io==0.36.0"},
    ),
    "tensorflow-io-gcs-filesystem": Known("drop", "TensorFlow installs the version it needs"),
    "tensorflow-estimator": Known("drop", "removed in TensorFlow 2.16; older TensorFlow installs its own"),
    "tensorboard": Known("drop", "TensorFlow installs the TensorBoard that matches it"),
    "keras-applications": Known("drop", "merged into Keras (keras.applications)"),
    "keras-preprocessing": Known("drop", "merged into Keras (keras.utils and the preprocessing layers)"),
    "tensorflow-deps": Known(
        "drop",
        "Apple's conda metapackage for tensorflow-macos <= 2.12 (old numpy, grpcio, h5py builds): "
        "the pinned pip wheels bring their own dependencies",
    ),
    "cudatoolkit": Known("drop", CUDA_NOTE),
    "cudnn": Known("drop", CUDA_NOTE),
    "cuda-toolkit": Known("drop", CUDA_NOTE),
    "cuda-nvcc": Known("drop", CUDA_NOTE),
    "pip": Known("drop", TOOLS_NOTE),
    "setuptools": Known("drop", TOOLS_NOTE),
    "wheel": Known("drop", TOOLS_NOTE),
}
IMPORT_NAMES = {"tensorflow_addons": "tensorflow-addons", "tensorflow_io": "tensorflow-io"}
# The first release with a macOS arm64 wheel, per CPython (read from PyPI's file lists, 2026-11-28).
ARM64_SINCE = {
    "numpy": {"3.10": "1.21.3", "3.11": "1.23.2", "3.12": "1.26.0"},
    "h5py": {"3.10": "3.7.0", "3.11": "3.8.0", "3.12": "3.10.0"},
    "scipy": {"3.10": "1.7.3", "3.11": "1.9.2", "3.12": "1.11.2"},
    "pandas": {"3.10": "1.3.4", "3.11": "1.5.0", "3.12": "2.1.1"},
    "grpcio": {"3.10": "1.41.0", "3.11": "1.51.3", "3.12": "1.59.0"},
    # opencv: the first 4.x (some 3.4.x releases have arm64 wheels too, older 4.x ones do not)
    "opencv-python": {"3.10": "4.5.4.58", "3.11": "4.5.5.62", "3.12": "4.5.5.62"},
    "opencv-python-headless": {"3.10": "4.5.4.58", "3.11": "4.5.5.62", "3.12": "4.5.5.62"},
}
CONDA_NAMES = {"py-opencv": "opencv-python", "opencv": "opencv-python", "pytables": "tables", "pytorch": "torch"}


@dataclass(frozen=True)
class Target:
    """The stack a project is judged against (built from the stack table by recommend.target)."""

    id: str
    keras: int
    tensorflow: str  # "2.16.2"
    python: str  # the Python the requirements are checked for
    apple_silicon: tuple  # the stack's Apple Silicon requirement lines
    common: tuple  # requirements on every platform (the numpy bound)

    @property
    def tensorflow_minor(self) -> str:
        return ".".join(self.tensorflow.split(".")[:2])

    def mac_pins(self) -> list:
        """The stack's requirements on an Apple Silicon Mac with this Python, markers left out."""
        env = {"python_version": self.python, "python_full_version": self.python + ".0"}
        env |= {"sys_platform": "darwin", "platform_machine": "arm64"}
        requirements = [Requirement(line) for line in self.apple_silicon + self.common]
        return [r for r in requirements if r.marker is None or r.marker.evaluate(env)]

    def pin(self, name: str) -> str | None:
        """The stack's own requirement for a package on Apple Silicon, markers left out."""
        for requirement in self.mac_pins():
            if canonicalize_name(requirement.name) == name:
                return f"{requirement.name}{requirement.specifier}"
        return None


@dataclass
class Dependency:
    name: str
    spec: str  # as written in the source
    source: str  # file (and section) it was declared in
    action: str = "keep"
    note: str = ""
    requirement: str | None = None  # the line it adds to the suggested requirements, if any
    dev: bool = False  # a test or lint tool: its line goes to requirements-dev.txt
    extras: str = ""  # "[a,b]"
    marker: str = ""  # "; <environment marker>" or ""

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in ("name", "spec", "source", "action", "note")}


def pep440(spec: str) -> str | None:
    """A PEP 440 specifier for a pip, conda, Poetry or Pipfile version spec; "" for any version,
    None when it cannot be expressed (URLs, paths)."""
    spec = spec.strip().split("=py")[0]  # a conda build string (=1.21=py38h...) says nothing about the version
    if spec in ("", "*"):
        return ""
    caret = re.fullmatch(r"\^(\d+)(?:\.(\d+))?(?:\.(\d+))?", spec)
    if caret:
        major, minor, _ = caret.groups()
        upper = f"{int(major) + 1}" if int(major) or minor is None else f"0.{int(minor) + 1}"
        return f">={spec[1:]},<{upper}"
    tilde = re.fullmatch(r"~(\d+)\.(\d+)(?:\.\d+)?", spec)
    if tilde:
        return f">={spec[1:]},<{tilde.group(1)}.{int(tilde.group(2)) + 1}"
    bare = re.fullmatch(r"=?\s*(\d[\w.]*)(\.\*)?", spec)  # conda "=1.21" / "1.21.*" / "1.21", Poetry "2.4.1"
    if bare and not spec.startswith("=="):
        return f"=={bare.group(1)}.*" if spec.startswith("=") or bare.group(2) else f"=={bare.group(1)}"
    try:
        return str(SpecifierSet(spec))
    except InvalidSpecifier:
        return None


def too_old_for_arm64(name: str, spec: str, python: str) -> str | None:
    """The first release with a macOS arm64 wheel for this Python, when the spec allows only older ones."""
    first = ARM64_SINCE.get(name, {}).get(python)
    specifier = pep440(spec)
    if not first or not specifier:
        return None
    allowed = SpecifierSet(specifier)
    return None if allowed.contains(first) or allowed.contains("9999") else first


def judge(dependency: Dependency, target: Target) -> Dependency:
    """Set action, note and the suggested requirement line of a declared dependency for a stack."""
    name, spec = dependency.name, dependency.spec
    specifier = pep440(spec)
    stack_pin = target.pin(name)
    written = name + dependency.extras + (specifier or "")

    def decide(action, note, requirement=None):
        dependency.action, dependency.note, dependency.requirement = action, note, requirement
        return dependency

    apple = " + ".join(f"{r.name}{r.specifier}" for r in target.mac_pins() if r.name.startswith("tensorflow"))
    if stack_pin and stack_pin == written:
        return decide("keep", f"the {target.id} stack pins the same")
    if name in TF_FLAVOURS or (name == "keras" and stack_pin):
        what = f"the {target.id} stack pins {stack_pin}" if name == "keras" else f"the {target.id} stack pins {apple}"
        return decide("replace", f"{what} on Apple Silicon (and its own build per platform)")
    if name == "keras":
        return decide(
            "drop",
            f"TensorFlow {target.tensorflow} installs Keras {target.keras} itself"
            + (" (import it as tensorflow.keras or keras)" if target.keras == 2 else ""),
        )
    if name in KNOWN:
        known = KNOWN[name]
        pin = known.pins.get(target.tensorflow_minor)
        if known.action != "flag":
            return decide(known.action, known.note)
        where = f"kept as {pin}, built for TensorFlow {target.tensorflow_minor}" if pin else "left out"
        return decide("flag", f"{known.note}; {where}", pin)
    if name == "python":
        return decide("drop", f"the project's .venv runs Python {target.python}")
    dependency.dev = is_dev_tool(name)
    if name.startswith("nvidia-"):
        return decide("drop", CUDA_NOTE)
    if specifier is None:
        return decide("flag", f"{spec!r} is not a version specifier (a URL, path or VCS checkout): check it by hand")
    first = too_old_for_arm64(name, spec, target.python)
    old = f"; {written} has no macOS arm64 wheel for Python {target.python} (the first is {first})" if first else ""
    if name == "numpy":
        if not specifier:
            return decide("keep", "the stack bounds numpy itself")
        return decide("replace", f"the stack bounds numpy: {stack_pin} (TensorFlow declares it){old}")
    if first:
        return decide("replace", old[2:] + f": relaxed to {name}>={first}", f"{name}>={first}" + dependency.marker)
    notes = [DEV_NOTE] if dependency.dev else []
    if specifier != spec.strip() and spec.strip() not in ("", "*"):
        notes.append(f"{spec!r} is conda/Poetry syntax, written as {specifier!r}")
    return decide("keep", "; ".join(notes), written + dependency.marker)
