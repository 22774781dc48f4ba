"""Refuse a cookiecutter too old for this template, and bad answers, before cookiecutter writes any file;
give the answers back ready to paste.

Runs with cookiecutter's own interpreter (the stdlib, and cookiecutter itself for its version). The answers
arrive as JSON data: `tojson` escapes every quote (and `'` as \\u0027), so no answer can end the raw string
literal below.
"""

import json
import keyword
import os
import re
import shlex
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Modules the generated project imports, plus names pytest and Hydra claim inside the project.
SHADOWED = {
    "tensorflow",
    "tf",
    "keras",
    "tf_keras",
    "hydra",
    "omegaconf",
    "numpy",
    "pytest",
    "conf",
    "tests",
    "test",
    "bootstrap",
    "setuptools",
    "pip",
    "hatchling",
    "markers",  # the generated tests' helper module (tests/markers.py)
}
STDLIB_FALLBACK = {  # sys.stdlib_module_names appeared in Python 3.10
    "abc",
    "ast",
    "asyncio",
    "collections",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "io",
    "json",
    "logging",
    "math",
    "os",
    "pathlib",
    "platform",
    "random",
    "re",
    "shutil",
    "site",
    "socket",
    "string",
    "subprocess",
    "sys",
    "tempfile",
    "test",
    "time",
    "types",
    "typing",
    "unittest",
    "uuid",
}
BOOTSTRAP_MODES = ("auto", "uv", "pip", "skip")
MAX_PACKAGE_LENGTH = 40  # the generated files pass their own lint (120-character lines) up to this length
# The oldest cookiecutter that renders this template: 1.7 renders dict answers such as the stack table
# to strings (`"keras": "3"`), so the files would come out wrong. Older than 1.7.1 never reaches this hook
# (no `slugify` filter, or no run on a current Python).
MINIMUM_COOKIECUTTER = (2, 1, 0)


def cookiecutter_too_old(answers):
    """The one-line refusal for a cookiecutter older than the minimum, or None. The hook runs with
    cookiecutter's own interpreter, so the cookiecutter it imports is the one rendering."""
    try:
        import cookiecutter

        found = cookiecutter.__version__
    except (ImportError, AttributeError):
        return None
    release = tuple(int(part) for part in re.findall(r"\d+", found)[:3])
    if release >= MINIMUM_COOKIECUTTER:
        return None
    minimum = ".".join(map(str, MINIMUM_COOKIECUTTER))
    return (
        f"cookiecutter {found} is older than {minimum}, the oldest this template supports; nothing was written. "
        f"Run it with a current one: uvx cookiecutter {answers['_template']} (or pip install -U cookiecutter)."
    )


def problems(answers):
    """(key, why) for each answer that would break the project."""
    stacks = answers["_stacks"]["stacks"]
    stdlib = getattr(sys, "stdlib_module_names", STDLIB_FALLBACK)

    for key in ("project_name", "project_slug", "author_name", "description"):
        if re.search(r"[\x00-\x1f\x7f]", answers[key]):
            yield key, f"{key} contains a control character (a newline or tab?); use plain text."

    slug = answers["project_slug"]
    if not slug.strip():
        yield "project_slug", "project_slug is empty: give a project_name with letters or digits, or set project_slug."
    elif "/" in slug or "\\" in slug or ".." in slug or slug.startswith("."):
        yield "project_slug", f"project_slug {slug!r} must be a plain folder name (no '/', '\\', '..' or leading '.')."

    package = answers["package_name"]
    if not (package.isascii() and package.isidentifier()):
        yield (
            "package_name",
            (
                f"package_name {package!r} is not a Python identifier: use ASCII letters, digits and "
                f"underscores, not starting with a digit (e.g. package_name=my_project)."
            ),
        )
    elif len(package) > MAX_PACKAGE_LENGTH:
        yield (
            "package_name",
            (
                f"package_name {package!r} is longer than {MAX_PACKAGE_LENGTH} characters, which the generated "
                f"code's 120-character lines are written for; pick a shorter one "
                f"(e.g. package_name={package[:MAX_PACKAGE_LENGTH].rstrip('_')})."
            ),
        )
    elif keyword.iskeyword(package):
        yield (
            "package_name",
            f"package_name {package!r} is a Python keyword; pick another (e.g. package_name={package}_app).",
        )
    elif package in SHADOWED or package in stdlib:
        yield (
            "package_name",
            (
                f"package_name {package!r} would shadow the module {package!r} that the project or Python "
                f"needs; pick another (e.g. package_name={package}_project)."
            ),
        )

    stack_id = answers["tensorflow_stack"]
    if stack_id not in stacks:
        yield "tensorflow_stack", f"tensorflow_stack {stack_id!r} is unknown; choose one of: {', '.join(stacks)}."
    else:
        supported = stacks[stack_id]["python"]
        if answers["python_version"] not in supported:
            yield (
                "python_version",
                (
                    f"python_version {answers['python_version']!r} is outside the {stack_id} stack's range "
                    f"({stacks[stack_id]['python_why']}): choose one of {', '.join(supported)}."
                ),
            )

    if answers["bootstrap"] not in BOOTSTRAP_MODES:
        yield (
            "bootstrap",
            f"bootstrap {answers['bootstrap']!r} is unknown; choose one of: {', '.join(BOOTSTRAP_MODES)}.",
        )

    legacy = answers.get("legacy_project", "").strip()
    if legacy and not os.path.isdir(legacy_path(legacy)):
        yield (
            "legacy_project",
            f"legacy_project {legacy!r} does not exist or is not a folder; give the legacy project's folder "
            "or leave it empty.",
        )
    elif legacy and stack_id in stacks and not stacks[stack_id]["tensorflow"]:
        # the migration runs tf_upgrade_v2 and the legacy code on TensorFlow, which this stack leaves out
        python = answers["python_version"]
        fitting = sorted(other for other, entry in stacks.items() if entry["tensorflow"] and python in entry["python"])
        yield (
            "tensorflow_stack",
            f"tensorflow_stack {stack_id!r} has no TensorFlow, and legacy TensorFlow code (legacy_project) is "
            f"migrated on a TensorFlow stack: choose one ({', '.join(fitting)} for Python {python}) and migrate "
            f"there; move to {stack_id} later, once the code is backend-neutral Keras 3 (no tf.* calls).",
        )


def legacy_path(answer):
    """The legacy project's folder. Hooks run inside the new project, so a relative answer is read
    against the folder cookiecutter was started in ($PWD, which changing directory does not update).
    The post-gen hook has the same three lines: hooks cannot share code."""
    path = os.path.expanduser(answer.strip())
    return os.path.join(os.environ.get("PWD", ""), path) if not os.path.isabs(path) else path


def default_package(slug):
    """package_name's default in cookiecutter.json, from a slug."""
    name = slug.replace("-", "_")
    return ("pkg_" if name[:1].isdigit() else "") + name


def paste_back(answers, refused):
    """The cookiecutter command that gives every answer again, shell-quoted, the refused one last: pasted
    as it is, it is refused again with the same line; with that last answer fixed, it generates."""
    command = ["cookiecutter", answers["_template"], "--no-input"]
    if answers.get("_checkout"):
        command += ["--checkout", answers["_checkout"]]
    started_in = os.environ.get("PWD")
    output_dir = answers.get("_output_dir")  # cookiecutter's own command and API set it; cruft does not
    if output_dir and (not started_in or os.path.realpath(output_dir) != os.path.realpath(started_in)):
        command += ["-o", output_dir]
    keys = sorted(key for key in answers if not key.startswith("_") and key != refused) + [refused]
    if refused == "project_slug" and answers["package_name"] == default_package(answers["project_slug"]):
        keys.remove("package_name")  # derived from the refused slug: let the fixed slug derive it again
    return " ".join(shlex.quote(part) for part in command + [f"{key}={answers[key]}" for key in keys])


def main():
    too_old = cookiecutter_too_old(ANSWERS)
    if too_old:
        print(f"ERROR: {too_old}", file=sys.stderr)
        return 1
    # One line for the first problem: later checks often only repeat it (a bad slug makes a bad package).
    refused, problem = next(problems(ANSWERS), (None, None))
    if problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        print(f"Nothing was written. Your answers, with {refused} last to fix, as one command:", file=sys.stderr)
        print(paste_back(ANSWERS, refused), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
