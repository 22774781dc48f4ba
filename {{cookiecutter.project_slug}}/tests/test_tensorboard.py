"""`make tensorboard` starts and serves its page on localhost; the doctor says when TensorBoard cannot import."""

import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.runtime.environment import check_tensorboard

PROJECT = Path(__file__).resolve().parents[1]


def make_recipe(target: str) -> str:
    """The command line the Makefile runs for a target (its first recipe line)."""
    lines = (PROJECT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    return lines[start + 1].strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch_when_up(url: str, process: subprocess.Popen, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"TensorBoard exited with status {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - http on localhost
                return response.read().decode("utf-8", "replace")
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, f"TensorBoard did not answer on {url} within {seconds} s"
            time.sleep(0.25)


@pytest.mark.slow
def test_make_tensorboard_serves_its_page_on_localhost(tmp_path):
    port = free_port()
    recipe = make_recipe("tensorboard").replace("$(PYTHON)", shlex.quote(sys.executable))
    command = shlex.split(recipe.replace("$(ARGS)", f"--host 127.0.0.1 --port {port}"))
    (tmp_path / "outputs").mkdir()
    log = tmp_path / "tensorboard.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT)
        try:
            page = fetch_when_up(f"http://127.0.0.1:{port}/", process, seconds=120)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{log.read_text()[-3000:]}") from None
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert "tb-relative-root" in page  # TensorBoard's own index page, not some other server's


def test_the_doctor_checks_that_tensorboard_imports():
    assert check_tensorboard().status == "ok"

    def without_pkg_resources(name):
        raise ModuleNotFoundError("No module named 'pkg_resources'")

    finding = check_tensorboard(without_pkg_resources)
    assert finding.status == "problem" and "setuptools 82" in finding.detail
    assert "setuptools<82" in finding.cure and "bootstrap.py" in finding.cure
