"""The doctor's CUDA checks on Linux x86_64: TensorFlow's CUDA build, the CUDA and cuDNN libraries the lock
installed against the versions TensorFlow was built for, the NVIDIA driver, and whether TensorFlow sees the GPU.

Plain functions of facts (tf.sysconfig.get_build_info(), installed versions, nvidia-smi's answers), so the
tests drive them with fakes; `driver_version` and `gpu_names` run nvidia-smi.
"""

from __future__ import annotations

import shutil
import subprocess

from .environment import Finding

REBOOTSTRAP_CUDA = "re-run `python3 bootstrap.py --accelerator cuda`, which installs requirements-cuda.lock"
# The oldest Linux driver each CUDA major version runs on (NVIDIA's minor-version compatibility table).
MIN_DRIVER = {11: (450, 80, 2), 12: (525, 60, 13), 13: (580, 65, 6)}
# The wheels tensorflow[and-cuda] installs for the CUDA runtime and cuDNN, by CUDA major version.
RUNTIME_WHEEL = "nvidia-cuda-runtime-cu{major}"
CUDNN_WHEEL = "nvidia-cudnn-cu{major}"


def nvidia_smi(arguments: list, run=subprocess.run) -> list | None:
    """nvidia-smi's output lines, or None when it is missing or fails."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = run(["nvidia-smi", *arguments], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines() if out.returncode == 0 else None


def gpu_names(run=subprocess.run) -> list:
    return [line for line in nvidia_smi(["-L"], run) or [] if line.startswith("GPU ")]


def driver_version(run=subprocess.run) -> str | None:
    lines = nvidia_smi(["--query-gpu=driver_version", "--format=csv,noheader"], run)
    return lines[0].strip() if lines else None


def numbers(text: str) -> tuple:
    return tuple(int(part) for part in str(text).split(".") if part.isdigit())


def check_cuda(build_info: dict, installed: dict, listed_gpus: list, driver: str | None, tf_gpus: int) -> list:
    """Findings about CUDA; none on a machine without an NVIDIA GPU and a CPU build of TensorFlow."""
    cuda_build = bool(build_info.get("is_cuda_build"))
    if not cuda_build:
        if not listed_gpus:
            return []
        return [
            Finding(
                "cuda build",
                "problem",
                f"nvidia-smi lists {listed_gpus[0]}, but this TensorFlow is a CPU build (tensorflow-cpu)",
                REBOOTSTRAP_CUDA,
            )
        ]
    cuda, cudnn = str(build_info.get("cuda_version", "")), str(build_info.get("cudnn_version", ""))
    findings = [Finding("cuda build", "ok", f"TensorFlow built for CUDA {cuda}, cuDNN {cudnn}")]
    major = numbers(cuda)[:1]
    for wheel, wanted, width in ((RUNTIME_WHEEL, cuda, 2), (CUDNN_WHEEL, cudnn, 1)):
        name = wheel.format(major=major[0] if major else "?")
        have = installed.get(name)
        if have is None:
            findings.append(Finding(name, "problem", f"not installed (TensorFlow needs {wanted})", REBOOTSTRAP_CUDA))
        elif numbers(have)[:width] != numbers(wanted)[:width]:
            findings.append(
                Finding(name, "problem", f"{have} installed, TensorFlow was built for {wanted}", REBOOTSTRAP_CUDA)
            )
        else:
            findings.append(Finding(name, "ok", f"{have} (TensorFlow built for {wanted})"))
    needed = MIN_DRIVER.get(major[0]) if major else None
    if driver is None:
        findings.append(
            Finding("nvidia driver", "problem", "nvidia-smi is missing or fails", "install the NVIDIA driver")
        )
    elif needed and numbers(driver) < needed:
        least = ".".join(map(str, needed))
        findings.append(
            Finding(
                "nvidia driver",
                "problem",
                f"{driver} is older than CUDA {major[0]} needs ({least})",
                f"update the NVIDIA driver to {least} or newer",
            )
        )
    else:
        findings.append(Finding("nvidia driver", "ok", driver))
    if listed_gpus and not tf_gpus:
        findings.append(
            Finding(
                "cuda gpu",
                "problem",
                f"nvidia-smi lists {len(listed_gpus)} GPU(s) but TensorFlow sees none (look above for 'Could not "
                "load dynamic library' or 'Cannot dlopen some GPU libraries')",
                REBOOTSTRAP_CUDA,
            )
        )
    elif tf_gpus:
        findings.append(Finding("cuda gpu", "ok", f"TensorFlow sees {tf_gpus} GPU(s)"))
    return findings
