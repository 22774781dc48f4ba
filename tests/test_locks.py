"""The shipped locks agree with the stack table and the generated pyproject.toml, for every platform
and Python; and (network) uv resolves each stack for macOS arm64 to exactly the pinned Metal pair."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest
from helpers import STACKS, TEMPLATE, bake, env_with_uv
from packaging.requirements import Requirement

LOCKS = TEMPLATE / "{{cookiecutter.project_slug}}" / "locks"
CASES = [(stack_id, python) for stack_id, stack in STACKS["stacks"].items() for python in stack["python"]]


def lock_entries(stack_id: str) -> list:
    text = (LOCKS / f"{stack_id}.txt").read_text(encoding="utf-8")
    return [Requirement(line.rstrip(" \\")) for line in text.splitlines() if line and line[0].isalnum()]


def environment(platform: str, python: str) -> dict:
    """Marker variables of a platform, read from the stack table's own marker for it."""
    marker = STACKS["platforms"][platform]["marker"]
    return dict(re.findall(r"(\w+) == '([^']+)'", marker)) | {"python_version": python, "python_full_version": f"{python}.0"}


def applicable(requirements, env: dict) -> list:
    return [req for req in requirements if req.marker is None or req.marker.evaluate(env)]


def pins_for(entries, env: dict) -> dict:
    pins = {}
    for req in applicable(entries, env):
        assert req.name not in pins, f"{req.name} is pinned twice for {env}"
        (spec,) = req.specifier
        assert spec.operator == "==", f"{req} is not an exact pin"
        pins[req.name] = spec.version
    return pins


def assert_metal_pair_loads(pins: dict, stack_id: str):
    tf_version = pins.get("tensorflow") or pins["tensorflow-macos"]
    minor = ".".join(tf_version.split(".")[:2])
    assert minor in STACKS["metal_loads"][pins["tensorflow-metal"]], (
        f"{stack_id}: tensorflow-metal {pins['tensorflow-metal']} does not load TensorFlow {tf_version}"
    )


@pytest.fixture(scope="module")
def pyprojects(tmp_path_factory):
    base = tmp_path_factory.mktemp("pyprojects")
    return {stack_id: bake(base / stack_id, tensorflow_stack=stack_id, python_version=STACKS["stacks"][stack_id]["python"][0])
            for stack_id in STACKS["stacks"]}


@pytest.mark.parametrize(("stack_id", "python"), CASES)
def test_every_lock_matches_the_table_and_pyproject(pyprojects, stack_id, python):
    stack = STACKS["stacks"][stack_id]
    entries = lock_entries(stack_id)
    pyproject = tomllib.loads((pyprojects[stack_id] / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [Requirement(text) for text in pyproject["project"]["dependencies"]]
    wanted += [Requirement(text) for text in pyproject["project"]["optional-dependencies"]["dev"]]
    for platform in stack["requirements"]:
        env = environment(platform, python)
        pins = pins_for(entries, env)
        for text in stack["requirements"][platform]:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate(env):
                assert pins.get(req.name) == next(iter(req.specifier)).version, f"{platform}: {req} vs lock"
        for req in applicable(wanted, env):
            assert req.name in pins, f"{platform}/{python}: {req.name} missing from the lock"
            assert req.specifier.contains(pins[req.name], prereleases=True), f"{platform}: lock {req.name}=={pins[req.name]} vs {req}"
        if platform == "apple_silicon":
            assert_metal_pair_loads(pins, stack_id)


def test_every_lock_carries_hashes():
    for stack_id in STACKS["stacks"]:
        text = (LOCKS / f"{stack_id}.txt").read_text(encoding="utf-8")
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())  # an entry: its pin line and hash lines
        unhashed = [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry]
        assert len(entries) > 20 and unhashed == [], f"{stack_id}: {unhashed}"
        assert sorted(path.stem for path in LOCKS.glob("*.txt")) == sorted(STACKS["stacks"])


def test_no_stack_pins_a_refused_pair():
    for stack_id, stack in STACKS["stacks"].items():
        for python in stack["python"]:
            pins = {req.name: next(iter(req.specifier)).version
                    for req in applicable([Requirement(t) for t in stack["requirements"]["apple_silicon"]],
                                          environment("apple_silicon", python))}
            assert pins.get("tensorflow-macos") != "2.15.1", stack_id
            assert_metal_pair_loads(pins, stack_id)


@pytest.mark.network
@pytest.mark.parametrize(("stack_id", "python"), CASES)
def test_macos_arm64_resolution_holds_exactly_the_pinned_metal_pair(pyprojects, stack_id, python):
    project = pyprojects[stack_id]
    result = subprocess.run(
        ["uv", "pip", "compile", "pyproject.toml", "--python-platform", "aarch64-apple-darwin", "--python-version",
         python, "--quiet", "--no-header", "--no-annotate"],
        cwd=project, capture_output=True, text=True, env=env_with_uv(), timeout=300,
    )
    assert result.returncode == 0, result.stderr
    resolved = dict(line.split("==") for line in result.stdout.splitlines() if "==" in line)
    stack = STACKS["stacks"][stack_id]
    env = environment("apple_silicon", python)
    for req in applicable([Requirement(text) for text in stack["requirements"]["apple_silicon"]], env):
        assert resolved.get(req.name) == next(iter(req.specifier)).version, f"{req} vs {resolved.get(req.name)}"
    for text in stack["common"]:
        req = Requirement(text)
        assert req.specifier.contains(resolved[req.name]), f"{req.name} {resolved[req.name]} outside {req}"
    assert "tensorflow-cpu" not in resolved
    assert_metal_pair_loads(resolved, stack_id)
