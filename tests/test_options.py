"""The license, git_init and jupyter options, each value: the files, the metadata, the repository, the kernel."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import TEMPLATE, bake, files_of, lock_entries

LICENSES = TEMPLATE / "{{cookiecutter.project_slug}}" / "licenses"
# The standard texts' own first lines, and the PEP 639 expression each licence declares.
LICENSE_HEADS = {
    "MIT": ("MIT License", "MIT"),
    "BSD-3-Clause": ("BSD 3-Clause License", "BSD-3-Clause"),
    "Apache-2.0": ("Apache License", "Apache-2.0"),
    "Proprietary": ("Copyright (c)", "LicenseRef-Proprietary"),
}


def build_wheel(project: Path, out: Path, monkeypatch) -> dict:
    """The project's wheel, built in-process by its own backend (hatchling), and its METADATA fields."""
    from hatchling.build import build_wheel as hatchling_build_wheel

    monkeypatch.chdir(project)
    wheel = out / hatchling_build_wheel(str(out))
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
        names = archive.namelist()
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    return fields | {"files": names}


@pytest.mark.parametrize("license_id", list(LICENSE_HEADS))
def test_each_license_gives_its_file_and_the_metadata_the_backend_builds(tmp_path, monkeypatch, license_id):
    project = bake(tmp_path / "p", license=license_id, author_name="Zoë O'Neil")
    text = (project / "LICENSE").read_text(encoding="utf-8")
    head, expression = LICENSE_HEADS[license_id]
    assert text.lstrip().startswith(head)
    assert not (project / "licenses").exists() and "LICENSE" in files_of(project)
    if license_id == "Apache-2.0":
        assert text == (LICENSES / "Apache-2.0.txt").read_text(encoding="utf-8")
    else:
        assert f"{datetime.datetime.now(datetime.UTC).year}" in text and "Zoë O'Neil" in text
    (tmp_path / "dist").mkdir()
    metadata = build_wheel(project, tmp_path / "dist", monkeypatch)
    assert metadata["License-Expression"] == [expression]
    assert metadata["License-File"] == ["LICENSE"]
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in metadata["files"])
    private = ["Private :: Do Not Upload"] if license_id == "Proprietary" else []
    assert metadata.get("Classifier", []) == private


# --- git_init ---------------------------------------------------------------------------------------


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """No user, system or repository git configuration: the hook must fall back to the author's name."""
    home = tmp_path / "home"
    home.mkdir()
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("GIT_COMMITTER_NAME", raising=False)
    monkeypatch.delenv("GIT_COMMITTER_EMAIL", raising=False)
    monkeypatch.delenv("EMAIL", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return home


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout


def test_git_init_commits_exactly_the_generated_files(tmp_path, git_env, capfd):
    project = bake(tmp_path / "out", git_init="yes", author_name="Ada Lovelace", jupyter="yes")
    out = capfd.readouterr().out
    assert "git: created a repository with a first commit" in out
    assert set(git(project, "ls-files").splitlines()) == files_of(project)
    assert (
        git(project, "log", "--format=%an <%ae>|%s")
        == "Ada Lovelace <noreply@example.invalid>|Generated from m1tf-template\n"
    )
    assert git(project, "status", "--porcelain") == ""
    # what bootstrap and a training run write later is never committed, nor shown as new
    for path in (".venv/bin/python", "outputs/2026-11-28/run/metrics.json", "src/x/__pycache__/m.pyc"):
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text("")
    assert git(project, "status", "--porcelain") == ""


def test_git_init_uses_the_users_identity_when_there_is_one(tmp_path, git_env):
    (git_env / ".gitconfig").write_text("[user]\n\tname = Grace Hopper\n\temail = grace@example.org\n")
    project = bake(tmp_path / "out", git_init="yes", author_name="Ada Lovelace")
    assert git(project, "log", "--format=%an <%ae>") == "Grace Hopper <grace@example.org>\n"


def test_git_init_no_leaves_no_repository(tmp_path, git_env):
    project = bake(tmp_path / "out", git_init="no")
    assert not (project / ".git").exists()


def test_inside_a_repository_git_init_is_skipped_with_one_line(tmp_path, git_env, capfd):
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    project = bake(tmp_path / "repo" / "projects", git_init="yes")
    lines = [line for line in capfd.readouterr().out.splitlines() if line.startswith("git:")]
    assert lines == [f"git: {project.parent} is already inside a git repository, so no new one was created."]
    assert not (project / ".git").exists()


def test_without_git_git_init_is_skipped_with_one_line(tmp_path, git_env, monkeypatch, capfd):
    no_git = tmp_path / "bin"
    no_git.mkdir()
    monkeypatch.setenv("PATH", str(no_git))  # the hooks run with cookiecutter's own interpreter, by path
    project = bake(tmp_path / "out", git_init="yes")
    lines = [line for line in capfd.readouterr().out.splitlines() if line.startswith("git:")]
    assert lines == ["git: not found, so no repository was created (git_init=yes); run `git init` later."]
    assert not (project / ".git").exists() and (project / "pyproject.toml").exists()


def test_a_failing_commit_is_one_line_and_the_project_is_kept(tmp_path, git_env, capfd):
    hooks = tmp_path / "git-hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho 'policy: no commits today' >&2\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    (git_env / ".gitconfig").write_text(f"[core]\n\thooksPath = {hooks}\n")
    project = bake(tmp_path / "out", git_init="yes")
    lines = [line for line in capfd.readouterr().out.splitlines() if line.startswith("git:")]
    assert lines == ["git: `git commit` failed (policy: no commits today); the project is kept."]
    assert (project / "pyproject.toml").exists() and (project / "LICENSE").exists()


# --- jupyter ----------------------------------------------------------------------------------------


def load_bootstrap(project: Path):
    spec = importlib.util.spec_from_file_location(f"bootstrap_{project.name}", project / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("jupyter", ["yes", "no"])
def test_bootstrap_installs_the_jupyter_overlay_with_the_lock_in_one_hash_checked_step(tmp_path, monkeypatch, jupyter):
    project = bake(tmp_path, jupyter=jupyter)
    bootstrap = load_bootstrap(project)
    commands = []
    monkeypatch.setattr(bootstrap, "run", lambda step, command, hint="": commands.append([str(c) for c in command]))
    machine = bootstrap.stack_info.this_machine()
    (project / ".venv").mkdir()  # install() marks a finished install in it
    bootstrap.install(["uv"], bootstrap.stack_info.load_stack(), machine)
    install = commands[0]
    assert "--require-hashes" in install
    requirements = [install[i + 1] for i, arg in enumerate(install) if arg == "-r"]
    assert Path(requirements[0]).name == "requirements.lock"
    assert requirements[1:] == ([str(project / "requirements-jupyter.lock")] if jupyter == "yes" else [])
    # then tf-keras of this Keras 3 stack alone (it requires `tensorflow` by name: tensorflow-cpu is that)
    assert commands[1][-4:] == ["--no-deps", "--require-hashes", "-r", str(project / "requirements-tf-keras.lock")]
    assert commands[2][-2:] == ["-e", "."]


@pytest.mark.parametrize(("installer", "reinstall"), [(["uv"], "--reinstall"), (None, "--force-reinstall")])
@pytest.mark.parametrize(("stack_id", "framework"), [("tensorflow-macos-2.16", "tensorflow"), ("keras-torch", "torch")])
def test_bootstrap_compiles_bytecode_and_reinstalls_a_framework_installed_without(
    tmp_path, monkeypatch, installer, reinstall, stack_id, framework
):
    """uv is asked for bytecode at every install (pip writes it unasked); a reused .venv whose framework (TensorFlow,
    or torch on keras-torch) has none (an earlier bootstrap's uv install) gets the locked stack reinstalled, which
    compiles it."""
    import py_compile

    bootstrap = load_bootstrap(bake(tmp_path, tensorflow_stack=stack_id))
    commands = []
    monkeypatch.setattr(bootstrap, "run", lambda step, command, hint="": commands.append([str(c) for c in command]))
    (bootstrap.VENV / "bin").mkdir(parents=True)
    bootstrap.VENV_PYTHON.symlink_to(sys.executable)
    init = bootstrap.VENV / "lib" / "python3.11" / "site-packages" / framework / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text("")
    stack, machine = bootstrap.stack_info.load_stack(), bootstrap.stack_info.Machine("Linux", "x86_64", False, "")
    bootstrap.install(installer, stack, machine)
    py_compile.compile(str(init), doraise=True)
    bootstrap.install(installer, stack, machine)
    installs = [command for command in commands if "install" in command]
    stack_installs = [command for command in installs if "--require-hashes" in command and "--no-deps" not in command]
    assert [reinstall in command for command in stack_installs] == [True, False]  # tf-keras's own step aside
    assert all(("--compile-bytecode" in command) == bool(installer) for command in installs)


def test_make_locks_overlay_is_what_the_full_export_adds(tmp_path):
    """`make lock`'s last step (bootstrap.py --overlay) on the shipped locks: the overlay of base+overlay
    over base is the overlay itself."""
    project = bake(tmp_path, jupyter="yes")
    base = (project / "requirements.lock").read_text(encoding="utf-8")
    jupyter = (project / "requirements-jupyter.lock").read_text(encoding="utf-8")
    (tmp_path / "all.txt").write_text(base + jupyter, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "bootstrap.py", "--overlay", tmp_path / "all.txt", "requirements.lock"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == jupyter


def test_kernel_without_jupyter_is_one_line(tmp_path):
    project = bake(tmp_path, jupyter="no")
    result = subprocess.run([sys.executable, "bootstrap.py", "--kernel"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 1
    assert "requirements-jupyter.lock is missing: this project was generated without Jupyter." in result.stderr


@pytest.mark.network  # installs the locked ipykernel into a small venv (no TensorFlow)
def test_make_kernel_registers_the_project_venv_as_a_jupyter_kernel(tmp_path):
    from uv import find_uv_bin

    project = bake(tmp_path / "out", jupyter="yes", project_name='Zoë\'s "Lab" Project')
    uv = find_uv_bin()
    subprocess.run([uv, "venv", "-q", "--python", "3.11", project / ".venv"], check=True)
    (ipykernel,) = {
        str(entry)
        for entry in lock_entries((project / "requirements-jupyter.lock").read_text(encoding="utf-8"))
        if entry.name == "ipykernel" and entry.marker.evaluate({"python_full_version": "3.11.0"})
    }
    pin = ipykernel.split(";")[0]
    subprocess.run([uv, "pip", "install", "-q", "--python", project / ".venv" / "bin" / "python", pin], check=True)
    data = tmp_path / "jupyter-data"
    env = dict(os.environ, JUPYTER_DATA_DIR=str(data), HOME=str(tmp_path / "home"))
    result = subprocess.run(["make", "kernel"], cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    spec = json.loads((data / "kernels" / "zoe-s-lab-project" / "kernel.json").read_text(encoding="utf-8"))
    assert spec["display_name"] == 'Zoë\'s "Lab" Project (.venv)'
    assert spec["argv"][0] == str(project / ".venv" / "bin" / "python")
    assert not (tmp_path / "home" / ".local").exists()


@pytest.mark.parametrize("jupyter", ["yes", "no"])
def test_bootstrap_registers_the_kernel_only_after_a_successful_install_and_only_with_jupyter(
    tmp_path, monkeypatch, capsys, jupyter
):
    bootstrap = load_bootstrap(bake(tmp_path, jupyter=jupyter))
    calls = []
    monkeypatch.setattr(bootstrap, "find_uv", lambda: ["uv"])
    monkeypatch.setattr(bootstrap, "choose_python", lambda *args: ((3, 11, 0), "x86_64", "/usr/bin/python3.11"))
    for step in ("ensure_venv", "install", "check", "register_kernel"):
        monkeypatch.setattr(bootstrap, step, lambda *args, step=step: calls.append(step))
    assert bootstrap.main([]) == 0
    assert calls == ["ensure_venv", "install", "check"] + (["register_kernel"] if jupyter == "yes" else [])

    def failed_install(*args):
        raise bootstrap.BootstrapError("installing the locked stack failed")

    calls.clear()
    monkeypatch.setattr(bootstrap, "install", failed_install)
    assert bootstrap.main([]) == 1
    assert calls == ["ensure_venv"]  # no kernel for a .venv that is not set up
