"""Which stack a legacy project should move to, its requirement lines, and the command to regenerate.

Everything comes from the stack table in stack.json (read through stack.py): a stack added to the
table is a candidate without a change here; one marked "experimental" is recommended only where no other
stack can run the project (a Python only it supports), and then the reason says EXPERIMENTAL. A stack
without TensorFlow (keras-torch: Keras on PyTorch) is never recommended: legacy TensorFlow code needs
TensorFlow to run at all; moving there is a later step, once the code is backend-neutral Keras 3
(docs/migration.md says when).
"""

from __future__ import annotations

import re
import shlex

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .codes import CODES
from .packages import KNOWN, TF_FLAVOURS, Target

DEFAULT_TEMPLATE = "gh:<org>/m1tf-template"


def stack_python(data: dict, stack_id: str, wanted: str | None = None) -> str:
    """The Python the legacy project declares, else this project's own, when the stack supports it; else
    the newest the stack supports."""
    pythons = data["table"]["stacks"][stack_id]["python"]
    return next((p for p in (wanted, data["python_version"]) if p in pythons), pythons[-1])


def target(data: dict, stack_id: str, wanted_python: str | None = None) -> Target:
    stack = data["table"]["stacks"][stack_id]
    return Target(
        id=stack_id,
        keras=stack["keras"],
        tensorflow=stack["tensorflow"],
        python=stack_python(data, stack_id, wanted_python),
        apple_silicon=tuple(stack["requirements"]["apple_silicon"]),
        common=tuple(stack["common"]),
    )


def keras2_needs(dependencies, hits) -> list:
    """What in the project only the Keras 2 stack can run, as short descriptions."""
    needs = [d.name for d in dependencies if d.name in KNOWN and KNOWN[d.name].keras2]
    needs += [
        f"{h.detail.split(':')[0].split(' not in ')[0]} in {h.path}:{h.line}" for h in hits if CODES[h.code].keras2
    ]
    return list(dict.fromkeys(needs))


def declared_tensorflow(dependencies) -> tuple:
    """The highest TensorFlow version the project pins or requires at least, with where it says so."""
    best = (None, "")
    for dependency in dependencies:
        if dependency.name not in TF_FLAVOURS or dependency.name == "tensorflow-metal":
            continue
        for part in dependency.spec.split(","):
            part = part.strip()
            if part.startswith(("==", ">=", "~=")):
                try:
                    version = Version(part[2:].rstrip(".*"))
                except InvalidVersion:
                    continue
                if best[0] is None or version > best[0]:
                    best = (version, f"{dependency.name}{dependency.spec} in {dependency.source}")
    return best


def declared_python(dependencies) -> tuple:
    """The lowest Python the project declares it needs ("3.13"), with where it says so; (None, "")."""
    for dependency in dependencies:
        if dependency.name == "python":
            for part in dependency.spec.split(","):
                found = re.match(r"^\s*(?:==?|>=|~=)?\s*3\.(\d+)", part)
                if found:
                    return f"3.{found.group(1)}", f"python{dependency.spec} in {dependency.source}"
    return None, ""


def tensorflow_stacks(data: dict) -> dict:
    """The stacks a legacy TensorFlow project can move to: those with TensorFlow."""
    return {key: stack for key, stack in data["table"]["stacks"].items() if stack["tensorflow"]}


def experimental_for_python(data: dict, python: str | None, major: int) -> str | None:
    """The experimental stack that alone supports the project's Python, if that is the case."""
    stacks = tensorflow_stacks(data).items()
    if python is None or any(python in stack["python"] for _, stack in stacks if not stack.get("experimental")):
        return None
    fits = [key for key, stack in stacks if stack.get("experimental") and python in stack["python"]]
    return next((key for key in fits if data["table"]["stacks"][key]["keras"] == major), None)


def recommend(data: dict, dependencies, hits) -> tuple:
    """(stack id, reason) for the project, from its dependencies and code hits."""
    stacks = {key: stack for key, stack in tensorflow_stacks(data).items() if not stack.get("experimental")}
    needs = keras2_needs(dependencies, hits)
    major = 2 if needs else 3
    python, python_where = declared_python(dependencies)
    experimental = experimental_for_python(data, python, major)
    if experimental:
        stack = data["table"]["stacks"][experimental]
        newest = max((p for other in stacks.values() for p in other["python"]), key=lambda p: int(p.split(".")[1]))
        return experimental, (
            f"{python_where} needs Python {python}, which only the EXPERIMENTAL {experimental} stack supports "
            f"(TensorFlow {stack['tensorflow']} with {stack.get('metal_provider')}; its limits: "
            f"{'; '.join(stack.get('limits', []))}); the alternative is to move the project to Python {newest}, "
            "the newest a stable stack supports"
        )
    candidates = [key for key, stack in stacks.items() if stack["keras"] == major]
    if needs:
        why = f"Keras 2 is needed by {'; '.join(needs[:4])}" + (" ..." if len(needs) > 4 else "")
    else:
        why = "nothing in the code or the dependencies needs Keras 2"
    version, where = declared_tensorflow(dependencies)
    newer = [key for key in candidates if version is None or Version(stacks[key]["tensorflow"]) >= version]
    if version is not None and newer and newer != candidates:
        candidates, why = newer, f"{why}; {where} asks for TensorFlow {version} or newer"
    lacking = {stack for hit in hits if hit.code == "API603" for stack in hit.missing_in}
    having = [key for key in candidates if key not in lacking]
    if having and having != candidates:
        names = "; ".join(dict.fromkeys(h.detail.split(" not in ")[0] for h in hits if h.code == "API603"))
        why = f"{why}; {', '.join(k for k in candidates if k in lacking)} lack {names}"
        candidates = having
    own = data["chosen"]
    choice = own if own in candidates else candidates[0]
    how = "this project's own stack" if choice == own else f"the first Keras {major} stack in the table"
    tensorflow = stacks[choice]["tensorflow"]
    return choice, f"{why}, so Keras {major}: {choice} (TensorFlow {tensorflow}) is {how}"


def stack_lines(data: dict, stack_id: str) -> list:
    """The stack's requirement lines with platform markers, exactly as the generated pyproject.toml has them."""
    table = data["table"]
    stack = table["stacks"][stack_id]
    lines = []
    for platform, requirements in stack["requirements"].items():
        marker = table["platforms"][platform]["marker"]
        for requirement in requirements:
            pin, _, extra = requirement.partition(";")
            lines.append(f"{pin.strip()}; {marker}" + (f" and {extra.strip()}" if extra else ""))
    return lines + list(stack["common"])


def name_of(line: str) -> str:
    return canonicalize_name(Requirement(line).name)


def suggested_requirements(data: dict, stack_id: str, dependencies, dev: bool = False) -> list:
    """The stack's lines, then each runtime dependency's suggested line once (the stack's own pins win);
    with dev=True, only the test and lint tools' lines."""
    lines = [] if dev else stack_lines(data, stack_id)
    names = {name_of(line) for line in lines}
    for dependency in dependencies:
        if dependency.requirement and dependency.name not in names and dependency.dev == dev:
            names.add(dependency.name)
            lines.append(dependency.requirement)
    return lines


def regenerate_command(data: dict, stack_id: str, legacy: str, wanted_python: str | None = None) -> str | None:
    """The cookiecutter command that makes this project again on another stack; None for its own."""
    if stack_id == data["chosen"]:
        return None
    generated = data.get("generated_with", {})
    command = ["cookiecutter", "--no-input", generated.get("template") or DEFAULT_TEMPLATE]
    command += [f"{key}={value}" for key, value in sorted(generated.get("answers", {}).items())]
    command += [
        f"tensorflow_stack={stack_id}",
        f"python_version={stack_python(data, stack_id, wanted_python)}",
        f"legacy_project={legacy}",
    ]
    return shlex.join(command)
