"""Which hash-pinned locks bootstrap.py installs, and the operations on a lock's text.

Standard library only, loaded by bootstrap.py from beside it (it runs before any .venv exists). Decisions are
plain functions of facts that return a one-line problem (or None) for bootstrap.py to raise:
- the accelerator: `--accelerator auto` takes TensorFlow's CUDA build on Linux x86_64 when `nvidia-smi -L`
  lists a GPU; the CUDA lock (requirements-cuda.lock) then replaces requirements.lock. A torch stack has no
  CUDA lock: PyPI's torch wheels for Linux carry CUDA themselves, so requirements.lock serves either way;
- the overlays (requirements-jupyter.lock; requirements-export.lock with --export-tools), installed on top
  of either in the same hash-checked step;
- a lock's entries, an overlay (what `make lock` writes), the split of plug-ins built here from the rest.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCK = ROOT / "requirements.lock"
CUDA_LOCK = ROOT / "requirements-cuda.lock"  # TensorFlow's CUDA build (tensorflow[and-cuda]) for Linux x86_64
JUPYTER_LOCK = ROOT / "requirements-jupyter.lock"
EXPORT_LOCK = ROOT / "requirements-export.lock"  # the export tools: only with --export-tools (make export-tools)
# Locks installed on top of requirements.lock when the project has them, each holding only what its
# feature adds, resolved together with requirements.lock (`make lock`) so shared pins agree.
OVERLAY_LOCKS = (JUPYTER_LOCK,)
# tf-keras for distribute=multi_worker on a Keras 3 stack: installed after the stack with --no-deps, since it
# requires the `tensorflow` distribution by name, which tensorflow-cpu and tensorflow-macos are under other names.
TF_KERAS_LOCK = ROOT / "requirements-tf-keras.lock"


def lock_entries(text: str) -> list:
    """The entries of a hash-pinned lock: each a pin line with its hash lines."""
    return [entry.strip() for entry in re.split(r"\n(?=[A-Za-z0-9])", text.strip()) if entry.strip()]


def overlay(full: str, base: str) -> str:
    """The entries of `full` that `base` does not hold as they are: what a feature adds (`make lock`)."""
    present = set(lock_entries(base))
    return "".join(entry + "\n" for entry in lock_entries(full) if entry not in present)


def overlay_locks(export_tools: bool = False) -> list:
    """The overlay locks this project has, installed together with the base (or CUDA) lock in one step;
    the export tools' only when asked for."""
    return [path for path in OVERLAY_LOCKS + ((EXPORT_LOCK,) if export_tools else ()) if path.exists()]


def split_lock(text: str, names: tuple) -> tuple:
    """(the lock without the named distributions, their entries alone with the platform marker dropped):
    an entry is a pin line and its hash lines. The caller has decided to build those here."""
    keep, build = [], []
    for entry in lock_entries(text):
        name = re.split(r"[=<>!~ ;\\]", entry, maxsplit=1)[0].lower()
        if name in names:
            pin, _, rest = entry.partition("\n")
            build.append(pin.split(";")[0].strip() + " \\\n" + rest)
        else:
            keep.append(entry)
    return "\n".join(keep) + "\n", "\n".join(build) + ("\n" if build else "")


def nvidia_gpu_listed(run=subprocess.run) -> bool:
    """Whether `nvidia-smi -L` lists a GPU (a missing, failing or silent nvidia-smi: no)."""
    if not shutil.which("nvidia-smi"):
        return False
    try:
        out = run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and any(line.startswith("GPU ") for line in out.stdout.splitlines())


def choose_accelerator(requested: str, machine, gpu_listed) -> str:
    """cuda or cpu: which lock to install. auto takes cuda on Linux x86_64 when nvidia-smi lists a GPU.
    (On a Mac the base lock carries the Metal plug-in: cpu here means "not the CUDA lock".)"""
    if requested == "auto":
        return "cuda" if machine.platform_key == "linux_x86_64" and gpu_listed() else "cpu"
    return requested


def cuda_in_base_lock(entry: dict) -> bool:
    """Whether the stack's base lock already carries CUDA on Linux: a torch stack, whose PyPI wheels for Linux
    x86_64 and aarch64 bring the CUDA libraries themselves (and run on the CPU where no GPU is visible)."""
    return entry.get("backend") == "torch"


def accelerator_problem(accelerator: str, machine, stack_id: str, table: dict, cuda_lock: Path = CUDA_LOCK):
    """Why the chosen accelerator's lock cannot be installed here, in one line with the cure; None if it can."""
    if accelerator != "cuda":
        return None
    if cuda_in_base_lock(table["stacks"][stack_id]):
        if machine.platform_key in ("linux_x86_64", "linux_aarch64"):
            return None
        return (
            f"--accelerator cuda: PyTorch's CUDA builds are for Linux (x86_64, aarch64) and this is "
            f"{machine.describe()}; use --accelerator auto (on Apple Silicon PyTorch brings MPS itself)."
        )
    if machine.platform_key != "linux_x86_64":
        return (
            f"--accelerator cuda: TensorFlow's CUDA build is for Linux x86_64 and this is {machine.describe()}; "
            "use --accelerator auto (Metal on Apple Silicon comes with the base lock)."
        )
    if not cuda_lock.exists():
        others = [other for other, entry in table["stacks"].items() if entry.get("cuda") and other != stack_id]
        return (
            f"--accelerator cuda: the {stack_id} stack has no CUDA lock ({cuda_lock.name}); generate the project "
            f"with a stack that has one ({', '.join(others) or 'none'}), or use --accelerator cpu."
        )
    return None


def accelerator_note(accelerator: str, entry: dict) -> str | None:
    """What bootstrap says before installing for CUDA when the stack needs no lock of its own for it."""
    if accelerator == "cuda" and cuda_in_base_lock(entry):
        return (
            f"CUDA: PyTorch's Linux wheels carry CUDA themselves, so {LOCK.name} is installed (there is no separate "
            "CUDA lock); torch uses a visible NVIDIA GPU and the CPU otherwise"
        )
    return None


def lock_for(accelerator: str, entry: dict) -> Path:
    """The lock to install for the accelerator (accelerator_problem has passed): the CUDA lock or the base."""
    return CUDA_LOCK if accelerator == "cuda" and not cuda_in_base_lock(entry) else LOCK
