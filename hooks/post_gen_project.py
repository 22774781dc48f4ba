"""Keep the chosen stack's lock as requirements.lock (with its Jupyter overlay with jupyter=yes, and its
export tools' overlay) and the chosen licence as LICENSE, make the first git commit (git_init=yes) before
anything else is written, run bootstrap.py unless bootstrap=skip, then, with legacy_project set, analyse
that project into migration/ with the new .venv's Python. Under cruft (create, diff, update) it only writes
files (see main).

The hook always exits 0: a failing hook makes cookiecutter delete the project it just wrote, and an
install or a migration that fails (no network, no suitable Python, a crash) must never cost the user
their project. bootstrap.py and the migration print what failed; this hook says how to retry.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
COMMIT_MESSAGE = "Generated from m1tf-template"
STACK = ANSWERS["_stacks"]["stacks"][ANSWERS["tensorflow_stack"]]
# What needs TensorFlow, left out of a project whose stack has none (backend torch): the migration of legacy
# TensorFlow code (it runs tf_upgrade_v2 and TensorFlow itself), TensorFlow's CUDA build, tf.distribute,
# TensorBoard's callback, TensorFlow's export writers and its doctor checks. Paths relative to the project;
# {package} is the package's folder.
TENSORFLOW_ONLY = (
    "src/{package}/migrate",
    "src/{package}/runtime/cuda.py",
    "src/{package}/runtime/exporting_tf.py",
    "src/{package}/runtime/tensorflow_checks.py",
    "src/{package}/runtime/tensorflow_numerics.py",
    "src/{package}/runtime/start_tensorflow.py",
    "docs/migration.md",
    "tests/fixtures",
    "tests/test_migrate.py",
    "tests/test_migrate_apply.py",
    "tests/test_migrate_upgrade.py",
    "tests/test_cuda.py",
    "tests/test_distribute.py",
    "tests/test_tensorboard.py",
)


def legacy_path(answer):
    """As in the pre-gen hook: a relative answer is read against the folder cookiecutter started in."""
    path = os.path.expanduser(answer.strip())
    return os.path.join(os.environ.get("PWD", ""), path) if not os.path.isabs(path) else path


def migrate(project, legacy, ready):
    """Analyse the legacy project into migration/; a failure is reported, never raised."""
    python = project / ".venv" / "bin" / "python"
    command = f".venv/bin/python -m {ANSWERS['package_name']}.migrate {shlex.quote(legacy)}"
    if not ready or not python.exists():
        print(f"\nThe legacy project was not analysed (no working .venv); after set-up run in {project}: {command}")
        return
    print(f"\nAnalysing the legacy project {legacy} into migration/ ...")
    try:
        command = [str(python), "-m", f"{ANSWERS['package_name']}.migrate", legacy]
        result = subprocess.run(command, cwd=project)  # noqa: S603 - an argument list: the answer is one argument
        failed = result.returncode != 0
    except Exception as error:  # whatever happens here, the hook must exit 0 and keep the project
        print(f"error: {error}", file=sys.stderr)
        failed = True
    if failed:
        print(
            f"\nThe migration analysis failed (see above); the project is kept. Retry in {project}: {command}",
            file=sys.stderr,
        )


def git(*args, cwd):
    """git with an argument list; GIT_DIR and friends are dropped so no other repository is touched."""
    env = {key: value for key, value in os.environ.items() if key not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    # An argument list (answers are single arguments); git found on PATH, as the user runs it.
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)  # noqa: S603, S607 - see above


def git_init(project):
    """`git init` and a first commit of exactly the generated files (no .venv exists yet). Skipped with one
    line without git or inside a repository; a git failure is one line and never fails the hook."""
    if not shutil.which("git"):
        print("git: not found, so no repository was created (git_init=yes); run `git init` later.")
        return
    try:
        inside = git("rev-parse", "--is-inside-work-tree", cwd=project.parent)
        if inside.returncode == 0 and inside.stdout.strip() == "true":
            print(f"git: {project.parent} is already inside a git repository, so no new one was created.")
            return
        identity = []
        if git("config", "user.name", cwd=project.parent).returncode != 0:
            identity += ["-c", f"user.name={ANSWERS['author_name'].strip() or 'm1tf-template'}"]
        if git("config", "user.email", cwd=project.parent).returncode != 0:
            identity += ["-c", "user.email=noreply@example.invalid"]
        steps = {"init": ["init", "--quiet"], "add": ["add", "--all"]}
        steps["commit"] = [*identity, "commit", "--quiet", "-m", COMMIT_MESSAGE]
        for name, args in steps.items():
            result = git(*args, cwd=project)
            if result.returncode != 0:
                reason = result.stderr.strip() or result.stdout.strip() or f"exit status {result.returncode}"
                print(f"git: `git {name}` failed ({reason.splitlines()[-1]}); the project is kept.")
                return
    except OSError as error:
        print(f"git: {error}; the project is kept, without a first commit.")
        return
    print(f"git: created a repository with a first commit of the generated files ({COMMIT_MESSAGE!r}).")


def main():
    project = Path.cwd()
    stack_id = ANSWERS["tensorflow_stack"]
    (project / "locks" / f"{stack_id}.txt").replace(project / "requirements.lock")
    if ANSWERS["jupyter"] == "yes":
        (project / "locks" / f"{stack_id}.jupyter.txt").replace(project / "requirements-jupyter.lock")
    # the export tools (make export-tools), installed only when asked for
    (project / "locks" / f"{stack_id}.export.txt").replace(project / "requirements-export.lock")
    cuda_lock = project / "locks" / f"{stack_id}.cuda.txt"
    if cuda_lock.exists():  # TensorFlow's CUDA build for Linux x86_64: bootstrap.py --accelerator cuda
        cuda_lock.replace(project / "requirements-cuda.lock")
    tf_keras_lock = project / "locks" / f"{stack_id}.tf-keras.txt"
    if tf_keras_lock.exists():  # a Keras 3 stack: distribute=multi_worker trains with tf-keras
        tf_keras_lock.replace(project / "requirements-tf-keras.lock")
    shutil.rmtree(project / "locks")
    if STACK["backend"] != "tensorflow":
        for path in TENSORFLOW_ONLY:
            found = project / path.format(package=ANSWERS["package_name"])
            if found.is_dir():
                shutil.rmtree(found)
            else:
                found.unlink()
    (project / "licenses" / f"{ANSWERS['license']}.txt").replace(project / "LICENSE")
    shutil.rmtree(project / "licenses")
    legacy = ANSWERS.get("legacy_project", "").strip()
    if "_commit" in ANSWERS:
        # cruft (its `_commit` in the answers) renders the template again, hooks included, for every
        # `cruft diff` and `cruft update`, and the hook cannot tell that from `cruft create`: so under cruft
        # it only writes files, or each diff would bootstrap a stack and commit a repository of its own.
        # Its lines go to stderr: `cruft diff`'s output is a patch.
        print(
            f"\nProject written to {project} by cruft; set it up: cd {project} && python3 bootstrap.py", file=sys.stderr
        )
        if ANSWERS["git_init"] == "yes":
            print("git: under cruft no repository is created (git_init=yes); run `git init` yourself.", file=sys.stderr)
        if legacy:
            migrate(project, legacy_path(legacy), ready=False)
        return 0
    if ANSWERS["git_init"] == "yes":
        git_init(project)
    mode = ANSWERS["bootstrap"]
    if mode == "skip":
        print(f"\nProject written to {project}\nSet it up later with: cd {project} && python3 bootstrap.py")
        if legacy:
            migrate(project, legacy_path(legacy), ready=False)
        return 0
    bootstrap = [sys.executable, "bootstrap.py", "--installer", mode]  # mode: one of the bootstrap choices
    result = subprocess.run(bootstrap, cwd=project)  # noqa: S603 - an argument list of known values, no shell
    if result.returncode != 0:
        print(
            f"\nThe project was generated in {project} and kept; only its set-up failed (see above).", file=sys.stderr
        )
    if legacy:
        migrate(project, legacy_path(legacy), ready=result.returncode == 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
