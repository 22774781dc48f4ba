#!/usr/bin/env python3
"""Set up this project: check the machine, pick a suitable Python, create .venv, install the stack.

    python3 bootstrap.py [--installer auto|uv|pip] [--python PATH] [--accelerator auto|cpu|cuda]
    python3 bootstrap.py --kernel      (Jupyter projects: register .venv as a Jupyter kernel)

Standard library only, so any Python 3 can run it. Safe to run again: a healthy .venv is reused and
the install brings it back in line with requirements.lock. It never installs into an activated outside
environment and never deletes anything but a .venv it has to rebuild. Beside it: bootstrap_pythons.py
chooses the Python, bootstrap_locks.py the locks, and bootstrap_faults.py runs each step, names what went
wrong in one line, and decides whether an existing .venv can be trusted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "{{ cookiecutter.package_name }}"
ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
RETRY = f"cd {shlex.quote(str(ROOT))} && python3 bootstrap.py"


def load_module(name: str, path: Path):
    """A module loaded by path: the package is not installed yet, and this script may itself be loaded by
    path (the tests), so its folder is not necessarily on sys.path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


stack_info = load_module("_project_stack", ROOT / "src" / PACKAGE / "runtime" / "stack.py")
faults = load_module("_bootstrap_faults", ROOT / "bootstrap_faults.py")
locks = load_module("_bootstrap_locks", ROOT / "bootstrap_locks.py")
pythons = load_module("_bootstrap_pythons", ROOT / "bootstrap_pythons.py")
LOCK, JUPYTER_LOCK = locks.LOCK, locks.JUPYTER_LOCK
BootstrapError = faults.BootstrapError


def say(message: str) -> None:
    print(f"bootstrap: {message}", flush=True)


def choose_python(stack, machine, requested: str | None, uv: list | None) -> tuple:
    """probe() facts of the base interpreter for .venv (bootstrap_pythons.py), or the one-line refusal."""
    try:
        return pythons.choose_python(stack, machine, requested, uv)
    except LookupError as error:
        raise BootstrapError(str(error)) from None


def find_uv() -> list | None:
    exe = shutil.which("uv")
    if exe:
        return [exe]
    if importlib.util.find_spec("uv") is not None:  # `pip install uv` into the running Python
        from uv import find_uv_bin

        return [find_uv_bin()]
    return None


def clean_env() -> dict:
    env = dict(os.environ)
    # An activated outside environment must not receive the install; uv must never fetch a Python.
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME", "PIP_USER", "UV_PYTHON"):
        env.pop(name, None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


NETWORK_HINT = "Check the network and the package index, then run again."


def run(step: str, command: list, hint: str = NETWORK_HINT) -> None:
    """One step, with an argument list (never a shell); a failure becomes a one-line BootstrapError."""
    say(f"{step}: {shlex.join(map(str, command))}")
    faults.run_step(step, command, cwd=ROOT, env=clean_env(), otherwise=hint)


def ensure_venv(target: tuple, installer: list | None) -> None:
    """Reuse a healthy .venv of the chosen Python; rebuild any other (see bootstrap_faults.venv_problem)."""
    existing = pythons.probe(str(VENV_PYTHON)) if VENV_PYTHON.exists() else None
    python = target[2]
    if VENV.exists() or VENV.is_symlink():
        problem = faults.venv_problem(VENV, existing, target)
        if problem is None:
            say(f"reusing .venv (Python {'.'.join(map(str, existing[0]))})")
            return
        say(f"rebuilding .venv: {problem}")
    if installer:
        run("creating .venv", installer + ["venv", "--clear", "--no-python-downloads", "--python", python, str(VENV)])
    else:
        run("creating .venv", [python, "-m", "venv", "--clear", str(VENV)])


def build_tools_problem() -> str | None:
    """Why a Metal plug-in cannot be compiled on this Mac (macOS 15+ is the stack's minimum, checked before):
    the Xcode command line tools and their macOS 15 SDK must be there. One line with the cure; None if fine."""
    sdk = (
        [
            # Apple's xcrun, looked up on PATH as the compiler's build will look it up; an argument list
            subprocess.run(["xcrun", flag], capture_output=True, text=True)  # noqa: S603, S607 - see above
            for flag in ("--show-sdk-path", "--show-sdk-version")
        ]
        if shutil.which("xcrun")
        else []
    )
    if not sdk or any(result.returncode != 0 for result in sdk):
        return (
            "the Xcode command line tools are missing (`xcrun --show-sdk-path` fails), and the Metal plug-in is "
            "compiled at install: run `xcode-select --install`, then this again; or pick another stack."
        )
    version = sdk[1].stdout.strip()
    if stack_info.version_tuple(version) < (15,):
        return (
            f"the macOS SDK is {version}, and the Metal plug-in needs the macOS 15 SDK: update the command line "
            "tools (Software Update, or `xcode-select --install`), then run this again; or pick another stack."
        )
    return None


def venv_versions(names: tuple) -> dict:
    """Installed versions inside .venv (not this interpreter's), None where missing."""
    code = (
        "import json, sys\nfrom importlib.metadata import version\nout = {}\nfor n in sys.argv[1:]:\n"
        "    try: out[n] = version(n)\n    except Exception: out[n] = None\nprint(json.dumps(out))"
    )
    out = subprocess.run(  # noqa: S603 - .venv's Python with this file's own code; names are distributions
        [VENV_PYTHON, "-c", code, *names], capture_output=True, text=True
    )
    return json.loads(out.stdout) if out.returncode == 0 else dict.fromkeys(names)


def build_plugins(pip: list, build_lock: str, names: tuple, tensorflow: str) -> None:
    """Compile the plug-ins against the TensorFlow now in .venv: without build isolation (an isolated build
    would compile against a TensorFlow of its own), with the locked hashes, and never from a wheel cached
    by an earlier build (it may be of another TensorFlow). A build that still matches is kept."""
    record_path = VENV / stack_info.PLUGIN_BUILD_RECORD
    locked = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", build_lock, flags=re.M))
    wanted = {"plugins": locked, "tensorflow": tensorflow}
    installed_now = venv_versions(names)
    if record_path.exists() and json.loads(record_path.read_text()) == wanted and installed_now == locked:
        say(f"{', '.join(f'{n} {v}' for n, v in locked.items())} already built against TensorFlow {tensorflow}: kept")
        return
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "build.txt"
        requirements.write_text(build_lock)
        run(
            f"building {', '.join(locked)} against TensorFlow {tensorflow} (no build isolation)",
            pip + ["--no-build-isolation", "--no-deps", "--require-hashes", "-r", requirements],
            hint="The compiler's output above names the cause. " + NETWORK_HINT,
        )
    record_path.write_text(json.dumps(wanted, indent=2) + "\n")


def install(installer: list | None, stack, machine, lock_file: Path = LOCK, export_tools: bool = False) -> None:
    """The locked stack with every hash checked, then any plug-in built from source against it (Apple
    Silicon, the experimental stack), then this project on top (editable, no re-resolution)."""
    if not lock_file.exists():
        raise BootstrapError(f"{lock_file.name} is missing: restore it from version control or run `make lock`.")
    if installer:
        # uv writes no bytecode unless asked (pip does): without it, where PYTHONDONTWRITEBYTECODE is set,
        # every process compiles the framework's sources again (import tensorflow takes about twice as long).
        pip = installer + ["pip", "install", "--compile-bytecode", "--python", VENV_PYTHON]
        rebuild = ["--reinstall", "--no-cache"]
    else:
        has_pip = [VENV_PYTHON, "-m", "pip", "--version"]
        if subprocess.run(has_pip, capture_output=True).returncode != 0:  # noqa: S603 - .venv's own Python
            run("adding pip to .venv", [VENV_PYTHON, "-m", "ensurepip", "--upgrade"])
        pip, rebuild = [VENV_PYTHON, "-m", "pip", "install"], ["--force-reinstall", "--no-cache-dir"]
    built_here = stack.build_from_source if machine.platform_key == "apple_silicon" else ()
    if built_here:
        problem = build_tools_problem()
        if problem:
            raise BootstrapError(problem)
    (VENV / faults.COMPLETE_MARKER).unlink(missing_ok=True)  # until the last step below succeeds
    locked, build_lock = locks.split_lock(lock_file.read_text(encoding="utf-8"), built_here)
    with tempfile.TemporaryDirectory() as tmp:
        lock = Path(tmp) / lock_file.name
        lock.write_text(locked)
        overlays = locks.overlay_locks(export_tools)
        if export_tools and locks.EXPORT_LOCK not in overlays:
            raise BootstrapError(
                f"{locks.EXPORT_LOCK.name} is missing: restore it from version control or run `make lock`."
            )
        requirements = [arg for path in [lock, *overlays] for arg in ("-r", path)]
        # --reinstall (uv) / --force-reinstall (pip) when a reused .venv's framework has no bytecode
        again = rebuild[:1] if faults.framework_uncompiled(VENV, stack.framework) else []
        if again:  # an earlier bootstrap installed without compiling: a reinstall compiles
            name = stack.framework_name
            say(f"{name} in .venv has no compiled bytecode: reinstalling the locked stack to compile it")
        run("installing the locked stack (hashes checked)", pip + again + ["--require-hashes", *requirements])
    if locks.TF_KERAS_LOCK.exists():
        tf_keras = ["--no-deps", "--require-hashes", "-r", locks.TF_KERAS_LOCK]
        run("installing tf-keras for distribute=multi_worker (hashes checked, no dependencies)", pip + tf_keras)
    if built_here:
        tensorflow = venv_versions(("tensorflow",))["tensorflow"]
        build_plugins(pip + rebuild, build_lock, built_here, tensorflow)
    run("installing the project", pip + ["--no-deps", "-e", "."])
    (VENV / faults.COMPLETE_MARKER).write_text(f"{lock_file.name} and {PACKAGE} installed by bootstrap.py\n")


def register_kernel() -> None:
    """A Jupyter kernel named after the project that runs .venv's Python (`ipykernel install --user`)."""
    stack_file = ROOT / "src" / PACKAGE / "runtime" / "stack.json"
    answers = json.loads(stack_file.read_text(encoding="utf-8"))["generated_with"]
    slug, name = answers["answers"]["project_slug"], answers["answers"]["project_name"]
    # Jupyter accepts kernel names of ASCII letters, digits, '.', '_' and '-' only.
    kernel = slug if re.fullmatch(r"[A-Za-z0-9._-]+", slug) else PACKAGE
    run(
        f"registering the Jupyter kernel {kernel!r}",
        [VENV_PYTHON, "-m", "ipykernel", "install", "--user", "--name", kernel, "--display-name", f"{name} (.venv)"],
        hint="Is .venv set up? Run python3 bootstrap.py first.",
    )


def check() -> None:
    hint = "The doctor's verdict above names the cause and the cure; .venv is kept."
    run("checking the result", [VENV_PYTHON, "-m", f"{PACKAGE}.doctor"], hint=hint)


def error_line(problem: str) -> str:
    """The one line bootstrap ends with on stderr: what happened, what to do, and how to finish afterwards."""
    problem = " ".join(problem.split())  # one line, whatever the message was built from
    return f"error: {problem} The project is kept; then finish the set-up with: {RETRY}"


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--installer",
        choices=("auto", "uv", "pip"),
        default="auto",
        help="auto: uv when it is installed, else pip (default)",
    )
    parser.add_argument("--python", help="interpreter for .venv (default: found automatically)")
    parser.add_argument(
        "--accelerator",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="cuda: TensorFlow's CUDA build (requirements-cuda.lock, Linux x86_64; a torch stack's requirements.lock "
        "carries CUDA already); auto (default): cuda when `nvidia-smi -L` lists a GPU on Linux x86_64, else the base "
        "lock (Metal, or MPS, on Apple Silicon)",
    )
    parser.add_argument("--kernel", action="store_true", help="only register .venv as a Jupyter kernel")
    parser.add_argument(
        "--export-tools",
        action="store_true",
        help="also install the export tools (the ONNX and Core ML converters) from requirements-export.lock",
    )
    parser.add_argument("--overlay", nargs=2, metavar=("FULL", "BASE"), help=argparse.SUPPRESS)  # make lock
    args = parser.parse_args(argv)
    if args.overlay:
        full, base = (Path(name).read_text(encoding="utf-8") for name in args.overlay)
        sys.stdout.write(locks.overlay(full, base))
        return 0

    stack = stack_info.load_stack()
    machine = stack_info.this_machine()
    try:
        if args.kernel:
            if not JUPYTER_LOCK.exists():
                raise BootstrapError(f"{JUPYTER_LOCK.name} is missing: this project was generated without Jupyter.")
            register_kernel()
            return 0
        faults.check_writable(ROOT)
        problem = stack_info.machine_problem(machine, stack)
        if problem:
            raise BootstrapError(problem)
        uv = find_uv()
        installer = uv if args.installer in ("auto", "uv") else None
        if args.installer == "uv" and not installer:
            raise BootstrapError(
                "uv was asked for (bootstrap=uv, or --installer uv) but is not installed: install it "
                "(`brew install uv` or `pipx install uv`), or use pip (bootstrap=pip, or --installer pip)."
            )
        python = choose_python(stack, machine, args.python, uv)
        accelerator = locks.choose_accelerator(args.accelerator, machine, locks.nvidia_gpu_listed)
        table = stack_info.read_stack_file()["table"]
        problem = locks.accelerator_problem(accelerator, machine, stack.id, table)
        if problem:
            raise BootstrapError(problem)
        note = locks.accelerator_note(accelerator, table["stacks"][stack.id])
        if note:
            say(note)
        lock_file = locks.lock_for(accelerator, table["stacks"][stack.id])
        say(
            f"{machine.describe()}; stack {stack.id}; Python {'.'.join(map(str, python[0]))} at {python[2]}; "
            f"installer {'uv' if installer else 'pip'}; lock {lock_file.name}"
        )
        ensure_venv(python, installer)
        install(installer, stack, machine, lock_file, args.export_tools)
        check()
        if JUPYTER_LOCK.exists():
            register_kernel()
    except BootstrapError as error:
        print(error_line(str(error)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(error_line("interrupted (Ctrl-C); a half-installed .venv is rebuilt by the next run."), file=sys.stderr)
        return 130
    print(
        f"\nReady: {VENV} holds the {stack.id} stack and {PACKAGE}. Next:\n"
        f"    cd {shlex.quote(str(ROOT))}\n"
        f"    source .venv/bin/activate\n"
        f"    python -m {PACKAGE}.train        # train; results land in outputs/<date>/<time>/\n"
        f"    python -m pytest                 # the project's tests"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
