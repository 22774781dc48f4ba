"""The shipped locks agree with the stack table and the generated pyproject.toml, for every platform
and Python; and (network) uv resolves each stack for macOS arm64 to exactly the pinned Metal pair."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest
from helpers import (
    STACKS,
    TEMPLATE,
    TENSORFLOW_DISTRIBUTIONS,
    applicable,
    assert_metal_pair_loads,
    bake,
    env_with_uv,
    environment,
    is_torch,
    lock_entries,
    pins_for,
)
from packaging.requirements import Requirement

LOCKS = TEMPLATE / "{{cookiecutter.project_slug}}" / "locks"
CASES = [(stack_id, python) for stack_id, stack in STACKS["stacks"].items() for python in stack["python"]]
TORCH_CASES = [(stack_id, python) for stack_id, python in CASES if is_torch(stack_id)]


def mac_env(stack_id: str) -> dict:
    """The environment uv resolves and installs for macOS arm64 with: the oldest macOS the stack supports. uv
    otherwise assumes an older macOS, for which torch 2.15.0 (macosx_14_0_arm64 wheels only) has no wheel."""
    return env_with_uv() | {"MACOSX_DEPLOYMENT_TARGET": STACKS["stacks"][stack_id]["macos_min"]}


@pytest.fixture(scope="module")
def pyprojects(tmp_path_factory):
    base = tmp_path_factory.mktemp("pyprojects")
    return {
        stack_id: bake(
            base / stack_id, tensorflow_stack=stack_id, python_version=STACKS["stacks"][stack_id]["python"][0]
        )
        for stack_id in STACKS["stacks"]
    }


def assert_lock_agrees(lock_text: str, project, stack_id: str, python: str):
    stack = STACKS["stacks"][stack_id]
    entries = lock_entries(lock_text)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
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
            assert req.specifier.contains(pins[req.name], prereleases=True), (
                f"{platform}: lock {req.name}=={pins[req.name]} vs {req}"
            )
        if platform == "apple_silicon":
            assert_metal_pair_loads(pins, stack_id)


@pytest.mark.parametrize(("stack_id", "python"), CASES)
def test_every_lock_matches_the_table_and_pyproject(pyprojects, stack_id, python):
    lock_text = (LOCKS / f"{stack_id}.txt").read_text(encoding="utf-8")
    assert_lock_agrees(lock_text, pyprojects[stack_id], stack_id, python)


@pytest.mark.network
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lock_regenerates_a_lock_that_agrees(tmp_path):
    project = bake(tmp_path, tensorflow_stack="tensorflow-2.19")
    (project / "requirements.lock").unlink()
    (project / "requirements-tf-keras.lock").unlink()
    result = subprocess.run(
        ["make", "lock"], cwd=project, capture_output=True, text=True, env=env_with_uv(), timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert not (project / "uv.lock").exists()
    lock_text = (project / "requirements.lock").read_text(encoding="utf-8")
    for python in STACKS["stacks"]["tensorflow-2.19"]["python"]:
        assert_lock_agrees(lock_text, project, "tensorflow-2.19", python)
    tf_keras_text = (project / "requirements-tf-keras.lock").read_text(encoding="utf-8")
    assert_tf_keras_of_the_stack(tf_keras_text, "tensorflow-2.19")


def test_every_lock_carries_hashes():
    for stack_id in STACKS["stacks"]:
        text = (LOCKS / f"{stack_id}.txt").read_text(encoding="utf-8")
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())  # an entry: its pin line and hash lines
        unhashed = [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry]
        assert len(entries) > 20 and unhashed == [], f"{stack_id}: {unhashed}"
        # each stack's lock, its Jupyter overlay and its CUDA lock (tests/relock.py LOCK_FILES), nothing else
        variants = (".cuda.txt", ".jupyter.txt", ".tf-keras.txt", ".export.txt")
        base_locks = [path.stem for path in LOCKS.glob("*.txt") if not path.name.endswith(variants)]
        assert sorted(base_locks) == sorted(STACKS["stacks"])
        assert sorted(path.name.removesuffix(".jupyter.txt") for path in LOCKS.glob("*.jupyter.txt")) == sorted(
            STACKS["stacks"]
        )


def test_the_community_plugin_is_locked_as_its_published_sdist():
    # sha256 of tensorflow_metal_plugin-0.4.1.tar.gz on the registry (shared/reference/APPLE-SILICON-FACTS.md)
    sdist = "7ce3f583d679fc4fda2f0aec1ab497681c0faf986e12912028b5159ecfcf2bd7"
    text = (LOCKS / "tensorflow-2.21-community.txt").read_text(encoding="utf-8")
    entry = re.search(r"^tensorflow-metal-plugin==0\.4\.1 ;([^\n]*)\n((?:\s+--hash=\S+.*\n)+)", text, flags=re.M)
    assert entry, "the plug-in is not in the lock"
    assert entry.group(1).strip().rstrip(" \\") == "platform_machine == 'arm64' and sys_platform == 'darwin'"
    assert re.findall(r"sha256:(\w+)", entry.group(2)) == [sdist]
    for other in STACKS["stacks"]:
        if other != "tensorflow-2.21-community":
            assert "tensorflow-metal-plugin" not in (LOCKS / f"{other}.txt").read_text(encoding="utf-8"), other


def test_no_stack_pins_a_refused_pair():
    for stack_id, stack in STACKS["stacks"].items():
        for python in stack["python"]:
            pins = {
                req.name: next(iter(req.specifier)).version
                for req in applicable(
                    [Requirement(t) for t in stack["requirements"]["apple_silicon"]],
                    environment("apple_silicon", python),
                )
            }
            assert pins.get("tensorflow-macos") != "2.15.1", stack_id
            assert "tensorflow-metal" not in pins or tuple(map(int, python.split("."))) < (3, 13), (
                f"{stack_id}: no tensorflow-metal for {python}"
            )
            assert_metal_pair_loads(pins, stack_id)  # includes: never both Metal plug-ins


@pytest.mark.network
@pytest.mark.parametrize(("stack_id", "python"), CASES)
def test_macos_arm64_resolution_holds_exactly_the_pinned_metal_pair(pyprojects, stack_id, python):
    project = pyprojects[stack_id]
    result = subprocess.run(
        [
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            "--python-platform",
            "aarch64-apple-darwin",
            "--python-version",
            python,
            "--quiet",
            "--no-header",
            "--no-annotate",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=mac_env(stack_id),
        timeout=300,
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


@pytest.mark.network
@pytest.mark.parametrize(("stack_id", "python"), TORCH_CASES)
def test_the_torch_locks_macos_arm64_part_installs_with_hashes_in_a_dry_run(tmp_path, stack_id, python):
    """What bootstrap installs on an Apple Silicon Mac: the lock with its Jupyter and export overlays, every hash
    required, resolved by uv for macOS arm64 (its oldest supported macOS) and this Python, nothing installed."""
    locks = [LOCKS / f"{stack_id}{variant}.txt" for variant in ("", ".jupyter", ".export")]
    command = ["uv", "pip", "install", "--dry-run", "--target", tmp_path / "target", "--require-hashes"]
    command += ["--python-platform", "aarch64-apple-darwin", "--python-version", python]
    command += [arg for lock in locks for arg in ("-r", lock)]
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, env=mac_env(stack_id), timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    would = dict(line[3:].split("==") for line in result.stderr.splitlines() if line.startswith(" + "))
    stack = STACKS["stacks"][stack_id]
    assert would["torch"] == stack["torch"] and would["keras"] == "3.15.1", would
    assert {"ipykernel", "onnxruntime", "coremltools"} <= set(would)
    assert [name for name in TENSORFLOW_DISTRIBUTIONS if name in would] == []
    assert not list((tmp_path / "target").glob("*.dist-info")), "the dry run installed packages"


@pytest.mark.parametrize("stack_id", [stack_id for stack_id in STACKS["stacks"] if is_torch(stack_id)])
def test_a_torch_lock_pins_the_tables_torch_and_keras_and_no_tensorflow_on_every_platform_and_python(stack_id):
    stack = STACKS["stacks"][stack_id]
    entries = lock_entries((LOCKS / f"{stack_id}.txt").read_text(encoding="utf-8"))
    for overlay in (".jupyter", ".export"):
        entries += lock_entries((LOCKS / f"{stack_id}{overlay}.txt").read_text(encoding="utf-8"))
    for platform in STACKS["platforms"]:
        for python in stack["python"]:
            env = environment(platform, python)  # an overlay repeats a base entry at its version: a dict keeps one
            pins = {req.name: next(iter(req.specifier)).version for req in applicable(entries, env)}
            if platform not in stack["requirements"]:  # an Intel Mac: refused (no torch wheel), nothing locked
                assert pins == {}, (platform, python, pins)
                continue
            assert (pins["torch"], pins["keras"]) == (stack["torch"], "3.15.1"), (platform, python)
            assert [name for name in TENSORFLOW_DISTRIBUTIONS if name in pins] == [], (platform, python)


@pytest.fixture(scope="module")
def jupyter_pyprojects(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyter")
    return {stack_id: bake(base / stack_id, tensorflow_stack=stack_id, jupyter="yes") for stack_id in STACKS["stacks"]}


def assert_hashed_at_the_base_versions(base: list, overlay: list, overlay_text: str, stack_id: str) -> None:
    """Every entry of an overlay lock is hash-pinned, and a package it shares with the base lock has the same
    version there on every platform and Python of the stack (one resolution)."""
    for entry in re.split(r"\n(?=[A-Za-z0-9])", overlay_text.strip()):
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
    stack = STACKS["stacks"][stack_id]
    for python in stack["python"]:
        for platform in stack["requirements"]:
            env = environment(platform, python)
            base_pins = pins_for(base, env)
            for req in applicable(overlay, env):
                version = next(iter(req.specifier)).version
                assert base_pins.get(req.name, version) == version, f"{platform}/{python}: {req}"


def assert_overlay_agrees(base_text: str, overlay_text: str, project, stack_id: str):
    """The overlay adds ipykernel, every entry hash-pinned; a package it shares with the base lock has the
    same version (one resolution); together they satisfy the jupyter project's pyproject."""
    base, overlay = lock_entries(base_text), lock_entries(overlay_text)
    assert "ipykernel" in {req.name for req in overlay} and "ipykernel" not in {req.name for req in base}
    assert_hashed_at_the_base_versions(base, overlay, overlay_text, stack_id)
    stack = STACKS["stacks"][stack_id]
    # a package both hold (the overlay's marker is wider, the version the same: checked above) counts once
    names = {req.name for req in base}
    added = [e for e in re.split(r"\n(?=[A-Za-z0-9])", overlay_text.strip()) if lock_entries(e)[0].name not in names]
    for python in stack["python"]:
        assert_lock_agrees(base_text + "\n".join(added) + "\n", project, stack_id, python)


@pytest.mark.parametrize("stack_id", list(STACKS["stacks"]))
def test_every_jupyter_overlay_adds_ipykernel_hash_pinned_on_top_of_its_unchanged_base(jupyter_pyprojects, stack_id):
    base_text = (LOCKS / f"{stack_id}.txt").read_text(encoding="utf-8")
    overlay_text = (LOCKS / f"{stack_id}.jupyter.txt").read_text(encoding="utf-8")
    assert_overlay_agrees(base_text, overlay_text, jupyter_pyprojects[stack_id], stack_id)


@pytest.mark.network
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lock_in_a_jupyter_project_regenerates_the_lock_its_overlays_and_the_cuda_lock(tmp_path):
    project = bake(tmp_path, tensorflow_stack="keras2-legacy", jupyter="yes")
    made = ["requirements-cuda.lock", "requirements-export.lock", "requirements-jupyter.lock", "requirements.lock"]
    for name in made:
        (project / name).unlink()
    result = subprocess.run(
        ["make", "lock"], cwd=project, capture_output=True, text=True, env=env_with_uv(), timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in project.iterdir() if p.suffix in (".lock", ".tmp")) == made
    base_text = (project / "requirements.lock").read_text(encoding="utf-8")
    overlay_text = (project / "requirements-jupyter.lock").read_text(encoding="utf-8")
    assert_overlay_agrees(base_text, overlay_text, project, "keras2-legacy")
    cuda = {req.name for req in lock_entries((project / "requirements-cuda.lock").read_text(encoding="utf-8"))}
    assert "tensorflow" in cuda and "tensorflow-cpu" not in cuda
    assert "ipykernel" not in cuda, "ipykernel belongs to the overlay, installed on top of either lock"
    export_tools = {
        req.name for req in lock_entries((project / "requirements-export.lock").read_text(encoding="utf-8"))
    }
    assert {"tf2onnx", "onnxruntime", "coremltools"} <= export_tools and "ipykernel" not in export_tools


@pytest.mark.parametrize("stack_id", list(STACKS["stacks"]))
def test_every_export_overlay_adds_the_export_tools_hash_pinned_at_the_base_locks_versions(stack_id):
    """locks/<stack>.export.txt (requirements-export.lock, make export-tools): tf2onnx, onnxruntime and
    coremltools, every entry hash-pinned; a package it shares with the base lock has the same version."""
    base = lock_entries((LOCKS / f"{stack_id}.txt").read_text(encoding="utf-8"))
    overlay_text = (LOCKS / f"{stack_id}.export.txt").read_text(encoding="utf-8")
    overlay = lock_entries(overlay_text)
    # TensorFlow's models convert through tf2onnx; Keras on PyTorch exports ONNX through torch.onnx (onnxscript)
    converter = "onnxscript" if is_torch(stack_id) else "tf2onnx"
    assert {converter, "onnxruntime", "onnx", "coremltools"} <= {req.name for req in overlay}
    assert_hashed_at_the_base_versions(base, overlay, overlay_text, stack_id)


CUDA_STACKS = [stack_id for stack_id, stack in STACKS["stacks"].items() if stack.get("cuda")]


def test_every_stack_with_a_cuda_build_ships_a_cuda_lock_and_only_those():
    assert sorted(path.name.removesuffix(".cuda.txt") for path in LOCKS.glob("*.cuda.txt")) == sorted(CUDA_STACKS)


@pytest.mark.parametrize("stack_id", CUDA_STACKS)
def test_the_cuda_lock_installs_tensorflows_cuda_build_hash_pinned_on_linux_x86_64(stack_id):
    """Resolved by `make lock` with tensorflow[and-cuda] in place of tensorflow-cpu: on Linux x86_64 it holds
    TensorFlow itself at the stack's version, every NVIDIA wheel, and no tensorflow-cpu; every entry is
    hashed. (The NVIDIA wheels are gigabytes: this checks the resolution, nothing installs them here.)"""
    stack = STACKS["stacks"][stack_id]
    text = (LOCKS / f"{stack_id}.cuda.txt").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    assert [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry] == []
    (cuda,) = (Requirement(text) for text in stack["cuda"])
    assert cuda.extras == {"and-cuda"}
    for python in stack["python"]:
        pins = pins_for(lock_entries(text), environment("linux_x86_64", python))
        assert pins["tensorflow"] == next(iter(cuda.specifier)).version, python
        assert "tensorflow-cpu" not in pins, python
        nvidia = sorted(name for name in pins if name.startswith("nvidia-"))
        assert {"nvidia-cudnn-cu12", "nvidia-cuda-runtime-cu12", "nvidia-cublas-cu12"} <= set(nvidia), nvidia
    # the rest of the project is what the CPU lock holds: the same pyproject, resolved with the CUDA build
    cpu = pins_for(lock_entries((LOCKS / f"{stack_id}.txt").read_text()), environment("linux_x86_64", "3.11"))
    gpu = pins_for(lock_entries(text), environment("linux_x86_64", "3.11"))
    assert {"hydra-core", "hydra-joblib-launcher", "hydra-submitit-launcher", "keras"} <= set(gpu)
    shared = ("keras", "hydra-core")
    assert {name: gpu[name] for name in shared} == {name: cpu[name] for name in shared}
    # it is never installed on a Mac, but stays installable there: the Metal pair is the base lock's
    assert_metal_pair_loads(pins_for(lock_entries(text), environment("apple_silicon", "3.11")), stack_id)


# tf-keras (distribute=multi_worker) is TensorFlow's: a torch stack has no tf.distribute at all
KERAS_3_STACKS = [
    stack_id for stack_id, stack in STACKS["stacks"].items() if stack["keras"] >= 3 and not is_torch(stack_id)
]


def assert_tf_keras_of_the_stack(text: str, stack_id: str):
    """tf-keras alone (installed with --no-deps), of the stack's TensorFlow, hashed, for every platform and
    Python of the stack (`[tool.uv] environments` limits the resolution to its platforms)."""
    stack = STACKS["stacks"][stack_id]
    (entry,) = lock_entries(text)
    assert entry.name == "tf-keras", text
    version = next(iter(entry.specifier)).version
    assert version.split(".")[:2] == stack["tensorflow"].split(".")[:2], (stack_id, version)
    for platform in stack["requirements"]:
        for python in stack["python"]:
            assert pins_for([entry], environment(platform, python)) == {"tf-keras": version}, (platform, python)
    pin, *hashes = text.splitlines()
    assert pin.startswith(f"tf-keras=={version} ") and pin.endswith(" \\") and hashes, text
    assert all(re.fullmatch(r"    --hash=sha256:[0-9a-f]{64}( \\)?", line) for line in hashes), text


def test_every_keras_3_stack_ships_a_tf_keras_lock_of_its_tensorflow_and_only_those():
    shipped = sorted(path.name.removesuffix(".tf-keras.txt") for path in LOCKS.glob("*.tf-keras.txt"))
    assert shipped == sorted(KERAS_3_STACKS)
    for stack_id in KERAS_3_STACKS:
        assert_tf_keras_of_the_stack((LOCKS / f"{stack_id}.tf-keras.txt").read_text(encoding="utf-8"), stack_id)
