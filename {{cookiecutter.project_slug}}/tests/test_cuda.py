"""The doctor's CUDA checks with fake facts: TensorFlow's build info, the installed NVIDIA wheels, nvidia-smi."""

import subprocess
from types import SimpleNamespace

import pytest

from {{ cookiecutter.package_name }}.runtime import cuda

CUDA_BUILD = {"is_cuda_build": True, "cuda_version": "12.3", "cudnn_version": "8"}
CPU_BUILD = {"is_cuda_build": False}
WHEELS = {"nvidia-cuda-runtime-cu12": "12.3.101", "nvidia-cudnn-cu12": "8.9.7.29"}
GPU = "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-0f3c)"


def statuses(findings) -> dict:
    return {finding.check: finding.status for finding in findings}


def test_a_healthy_cuda_machine():
    findings = cuda.check_cuda(CUDA_BUILD, WHEELS, [GPU], "550.54.15", tf_gpus=1)
    assert set(statuses(findings).values()) == {"ok"}
    assert statuses(findings).keys() == {
        "cuda build",
        "nvidia-cuda-runtime-cu12",
        "nvidia-cudnn-cu12",
        "nvidia driver",
        "cuda gpu",
    }


def test_nothing_to_say_without_an_nvidia_gpu_and_with_the_cpu_build():
    assert cuda.check_cuda(CPU_BUILD, {}, [], None, tf_gpus=0) == []


def test_the_cpu_build_on_a_machine_with_an_nvidia_gpu_names_the_cuda_lock():
    (finding,) = cuda.check_cuda(CPU_BUILD, {}, [GPU], "550.54.15", tf_gpus=0)
    assert finding.status == "problem" and "CPU build" in finding.detail
    assert "--accelerator cuda" in finding.cure


def test_a_gpu_tensorflow_cannot_see_is_a_problem():
    findings = cuda.check_cuda(CUDA_BUILD, WHEELS, [GPU], "550.54.15", tf_gpus=0)
    assert statuses(findings)["cuda gpu"] == "problem"


@pytest.mark.parametrize(
    ("wheels", "check", "says"),
    [
        ({**WHEELS, "nvidia-cuda-runtime-cu12": "12.2.140"}, "nvidia-cuda-runtime-cu12", "12.2.140 installed"),
        ({**WHEELS, "nvidia-cudnn-cu12": "9.1.0.70"}, "nvidia-cudnn-cu12", "built for 8"),
        ({"nvidia-cudnn-cu12": "8.9.7.29"}, "nvidia-cuda-runtime-cu12", "not installed"),
    ],
)
def test_cuda_libraries_other_than_tensorflow_was_built_for_are_problems(wheels, check, says):
    findings = {finding.check: finding for finding in cuda.check_cuda(CUDA_BUILD, wheels, [GPU], "550.54.15", 1)}
    assert findings[check].status == "problem" and says in findings[check].detail


@pytest.mark.parametrize(
    ("driver", "status"), [("525.60.13", "ok"), ("535.104.05", "ok"), ("470.82.01", "problem"), (None, "problem")]
)
def test_the_driver_must_be_new_enough_for_the_cuda_major_version(driver, status):
    findings = {finding.check: finding for finding in cuda.check_cuda(CUDA_BUILD, WHEELS, [GPU], driver, 1)}
    assert findings["nvidia driver"].status == status
    if driver == "470.82.01":
        assert "older than CUDA 12 needs (525.60.13)" in findings["nvidia driver"].detail


def fake_run(returncode=0, stdout="", raises=None):
    def run(command, **kwargs):
        if raises:
            raise raises
        return SimpleNamespace(returncode=returncode, stdout=stdout)

    return run


def test_nvidia_smi_answers_are_read_and_its_failures_mean_no_answer(monkeypatch):
    monkeypatch.setattr(cuda.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    assert cuda.gpu_names(fake_run(stdout=GPU + "\n")) == [GPU]
    assert cuda.driver_version(fake_run(stdout="550.54.15\n550.54.15\n")) == "550.54.15"
    assert cuda.driver_version(fake_run(returncode=9, stdout="failed")) is None
    assert cuda.gpu_names(fake_run(raises=subprocess.TimeoutExpired("nvidia-smi", 30))) == []
    monkeypatch.setattr(cuda.shutil, "which", lambda name: None)
    assert cuda.gpu_names(fake_run(stdout=GPU)) == [] and cuda.driver_version(fake_run(stdout="550")) is None
