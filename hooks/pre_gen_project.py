"""Refuse bad answers before cookiecutter writes any file.

Runs with cookiecutter's own interpreter (stdlib only). The answers arrive as JSON data: `tojson`
escapes quotes, so no answer can break out of the string literal below.
"""

import json
import keyword
import os
import re
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


def problems(answers):
    stacks = answers["_stacks"]["stacks"]
    stdlib = getattr(sys, "stdlib_module_names", STDLIB_FALLBACK)

    for key in ("project_name", "author_name", "description"):
        if re.search(r"[\x00-\x1f\x7f]", answers[key]):
            yield f"{key} contains a control character (a newline or tab?); use plain text."

    slug = answers["project_slug"]
    if not slug.strip():
        yield "project_slug is empty: give a project_name with letters or digits, or set project_slug."
    elif "/" in slug or "\\" in slug or ".." in slug or slug.startswith("."):
        yield f"project_slug {slug!r} must be a plain folder name (no '/', '\\', '..' or leading '.')."

    package = answers["package_name"]
    if not (package.isascii() and package.isidentifier()):
        yield (
            f"package_name {package!r} is not a Python identifier: use ASCII letters, digits and "
            f"underscores, not starting with a digit (e.g. package_name=my_project)."
        )
    elif keyword.iskeyword(package):
        yield f"package_name {package!r} is a Python keyword; pick another (e.g. package_name={package}_app)."
    elif package in SHADOWED or package in stdlib:
        yield (
            f"package_name {package!r} would shadow the module {package!r} that the project or Python "
            f"needs; pick another (e.g. package_name={package}_project)."
        )

    stack_id = answers["tensorflow_stack"]
    if stack_id not in stacks:
        yield f"tensorflow_stack {stack_id!r} is unknown; choose one of: {', '.join(stacks)}."
    else:
        supported = stacks[stack_id]["python"]
        if answers["python_version"] not in supported:
            yield (
                f"python_version {answers['python_version']!r} is outside the {stack_id} stack's range "
                f"({stacks[stack_id]['python_why']}): choose one of {', '.join(supported)}."
            )

    if answers["bootstrap"] not in BOOTSTRAP_MODES:
        yield f"bootstrap {answers['bootstrap']!r} is unknown; choose one of: {', '.join(BOOTSTRAP_MODES)}."

    legacy = answers.get("legacy_project", "").strip()
    if legacy and not os.path.isdir(legacy_path(legacy)):
        yield (
            f"legacy_project {legacy!r} does not exist or is not a folder; "
            "give the legacy project's folder or leave it empty."
        )


def legacy_path(answer):
    """The legacy project's folder. Hooks run inside the new project, so a relative answer is read
    against the folder cookiecutter was started in ($PWD, which changing directory does not update).
    The post-gen hook has the same three lines: hooks cannot share code."""
    path = os.path.expanduser(answer.strip())
    return os.path.join(os.environ.get("PWD", ""), path) if not os.path.isabs(path) else path


def main():
    # One line for the first problem: later checks often only repeat it (a bad slug makes a bad package).
    problem = next(problems(ANSWERS), None)
    if problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
