"""The migration tool in the shared bootstrapped project: at generation (legacy_project), the uv check
online and offline, and --apply through TensorFlow's own tf_upgrade_v2 (one TensorFlow import).

The analysis itself (exact findings, dependency actions, refusals, the LibCST fixes, a migrated copy
that trains) is tested by the generated project's own suite, which test_project.py runs per stack.
"""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from helpers import DEFAULT_PACKAGE, LEGACY_FIXTURES, STACKS, TEMPLATE, env_with_uv, lock_entries, run

pytestmark = pytest.mark.network

MIGRATE = ["-m", f"{DEFAULT_PACKAGE}.migrate"]
UV_PLATFORMS = {
    "apple_silicon": "aarch64-apple-darwin",
    "intel_mac": "x86_64-apple-darwin",
    "linux_x86_64": "x86_64-unknown-linux-gnu",
    "linux_aarch64": "aarch64-unknown-linux-gnu",
}


def venv_python(project):
    return project / ".venv" / "bin" / "python"


def tree_hash(root) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def migrate_json(project, legacy, out, env, *extra):
    result = run([venv_python(project), *MIGRATE, legacy, "--out", out, "--json", *extra], cwd=project, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_the_post_gen_hook_analysed_the_legacy_project(bootstrapped, bootstrapped_output):
    report = (bootstrapped / "migration" / "MIGRATION.md").read_text(encoding="utf-8")
    assert "## Recommended stack: `keras2-legacy`" in report
    assert "tensorflow_stack=keras2-legacy" in report  # the project was made for another stack
    assert "Resolution check for macOS arm64, Python 3.11: **relaxed**" in report  # uv was on PATH
    assert (bootstrapped / "migration" / "requirements.txt").read_text().startswith("tensorflow-macos==2.15.0")
    assert "recommended stack: keras2-legacy" in bootstrapped_output


def test_online_the_requirements_are_checked_and_unresolvable_pins_relaxed(bootstrapped, tmp_path):
    result = migrate_json(bootstrapped, LEGACY_FIXTURES / "keras24_gpu", tmp_path / "out", env_with_uv())
    check = result["requirements_check"]
    assert check["status"] == "relaxed"
    # scikit-learn 0.24.2 has no wheel for Python 3.11 on macOS arm64 (only an sdist that would have to compile)
    assert [(c["before"], c["after"]) for c in check["changes"]] == [("scikit-learn==0.24.2", "scikit-learn")]
    assert "scikit-learn" in result["requirements"] and "scikit-learn==0.24.2" not in result["requirements"]
    sklearn = next(d for d in result["dependencies"] if d["name"] == "scikit-learn")
    assert sklearn["action"] == "replace" and "did not resolve" in sklearn["note"]


@pytest.mark.parametrize("offline", ["UV_OFFLINE", "no uv on PATH"])
def test_offline_the_check_is_skipped_and_said_so(bootstrapped, tmp_path, offline):
    if offline == "UV_OFFLINE":
        env = env_with_uv() | {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
        expected = "uv is offline (UV_OFFLINE)"
    else:
        env = env_with_uv() | {"PATH": str(tmp_path / "no-bin")}
        expected = "uv is not on PATH"
    result = migrate_json(bootstrapped, LEGACY_FIXTURES / "conda_macos29", tmp_path / "out", env)
    assert result["requirements_check"]["status"] == "skipped"
    assert expected in result["requirements_check"]["detail"]
    report = (tmp_path / "out" / "MIGRATION.md").read_text(encoding="utf-8")
    assert "**skipped**" in report and expected in report


def test_apply_upgrades_tf1_code_with_tf_upgrade_v2_and_leaves_the_legacy_tree_alone(bootstrapped, tmp_path):
    legacy = LEGACY_FIXTURES / "tf1_graph"
    before = tree_hash(legacy)
    copy = tmp_path / "tf1 migrated"
    env = env_with_uv() | {"PATH": str(tmp_path / "no-bin")}  # offline: only the apply is under test here
    result = migrate_json(bootstrapped, legacy, tmp_path / "out", env, "--apply", copy)
    assert tree_hash(legacy) == before, "the legacy tree was modified"
    train = (copy / "train.py").read_text(encoding="utf-8")
    assert "tf.compat.v1.Session(config=config)" in train and "tf.compat.v1.placeholder(" in train
    assert "tf.compat.v1.get_variable(" in (copy / "model.py").read_text(encoding="utf-8")
    # the Python 2 leftover is copied unchanged (it does not parse), and said so
    assert (copy / "scripts" / "export_weights.py").read_bytes() == (legacy / "scripts/export_weights.py").read_bytes()
    assert any("export_weights.py: not changed" in note for note in result["applied"]["notes"])
    assert sorted(result["applied"]["changed"]) == ["model.py", "train.py"]
    assert (tmp_path / "out" / "tf_upgrade_v2.txt").exists()
    report = (tmp_path / "out" / "MIGRATION.md").read_text(encoding="utf-8")
    assert "+    with tf.compat.v1.Session(config=config) as sess:" in report


def test_the_locked_libcst_has_a_wheel_for_every_platform_and_python_of_every_stack():
    needed = set()
    for stack_id, stack in STACKS["stacks"].items():
        lock = (TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{stack_id}.txt").read_text(encoding="utf-8")
        pins = {f"libcst{req.specifier}" for req in lock_entries(lock) if req.name == "libcst"}
        needed |= {
            (pin, platform, python) for pin in pins for platform in stack["requirements"] for python in stack["python"]
        }
    for pin, platform, python in sorted(needed):
        command = ["uv", "pip", "compile", "-", "--python-platform", UV_PLATFORMS[platform]]
        command += ["--python-version", python, "--only-binary", ":all:", "--no-header", "--quiet"]
        result = subprocess.run(command, input=pin, capture_output=True, text=True, env=env_with_uv())
        assert result.returncode == 0, f"{pin} on {platform}, Python {python}: {result.stderr}"
