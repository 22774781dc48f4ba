"""Read the declared dependencies of a legacy tree, statically: nothing is installed or executed.

requirements*.txt (following -r includes), environment.yml (conda and its pip section), pyproject.toml
([project] and Poetry), setup.cfg, setup.py (its syntax tree) and Pipfile. A file that cannot be read
is a DEP001 hit with the reason, never an exception.
"""

from __future__ import annotations

import ast
import configparser
import re
import sys
from pathlib import Path

import yaml  # PyYAML: installed with the project already (omegaconf depends on it)
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .codes import Hit
from .packages import CONDA_NAMES, Dependency
from .tree import relative

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli, the same parser, is the project's dependency there
    import tomli as tomllib

INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=?\s*)(\S+)")
EGG = re.compile(r"#egg=([\w.\-]+)")
PER_LINE_OPTION = re.compile(r"\s+--(?:hash|global-option|config-settings|install-option)\b")


def from_requirement(text: str, source: str) -> Dependency:
    """A Dependency from a PEP 508 line; URLs and paths become a flagged entry with the text as spec."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        egg = EGG.search(text)
        name = egg.group(1) if egg else text
        return Dependency(canonicalize_name(name) if egg else name, text, source)
    if requirement.url:
        return Dependency(canonicalize_name(requirement.name), requirement.url, source)
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return Dependency(
        canonicalize_name(requirement.name), str(requirement.specifier), source, extras=extras, marker=marker
    )


def requirement_lines(text: str) -> list:
    """(line number, requirement or option) of a requirements file: comments and continuations handled."""
    entries, pending, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        start = start or number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            entries.append((start, line))
        start = 0
    return entries


def read_requirements(root: Path, path: Path, seen: set) -> tuple:
    """Dependencies and hits of a requirements file and the files it includes with -r."""
    if path.resolve() in seen:
        return [], []
    seen.add(path.resolve())
    source = relative(root, path)
    dependencies, hits = [], []
    for number, line in requirement_lines(path.read_text(encoding="utf-8", errors="replace")):
        include = INCLUDE.match(line)
        if include:
            target = (path.parent / include.group(1)).resolve()
            if not target.is_relative_to(root.resolve()) or not target.is_file():
                hits.append(Hit(source, number, None, "DEP001", f"-r {include.group(1)}: not a file in the project"))
                continue
            found, problems = read_requirements(root, target, seen)
            dependencies += found
            hits += problems
        elif line.startswith("-e") or line.startswith("--editable"):
            editable = line.split(None, 1)[-1] if " " in line else line[2:]
            if editable.strip() not in (".", "./"):  # the legacy project itself
                dependencies.append(from_requirement(editable.strip(), source))
        elif not line.startswith("-"):  # other options: indexes, constraints
            dependencies.append(from_requirement(PER_LINE_OPTION.split(line)[0], source))
    return dependencies, hits


def conda_dependency(text: str, source: str) -> Dependency:
    spec = text.split("::")[-1].strip()  # apple::tensorflow-deps -> tensorflow-deps
    name, version = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
    name = canonicalize_name(name)
    return Dependency(CONDA_NAMES.get(name, name), version.strip(), source)


def read_environment(root: Path, path: Path) -> tuple:
    source = relative(root, path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    dependencies = []
    for entry in (data or {}).get("dependencies") or []:
        if isinstance(entry, str):
            dependencies.append(conda_dependency(entry, f"{source} (conda)"))
        elif isinstance(entry, dict):
            for line in entry.get("pip") or []:
                if not str(line).startswith("-"):
                    dependencies.append(from_requirement(str(line), f"{source} (pip)"))
    return dependencies, []


def poetry_spec(value) -> str:
    if isinstance(value, dict):
        return value.get("version", value.get("git", value.get("path", value.get("url", ""))))
    return value if isinstance(value, str) else ""


def named(table: dict, source: str) -> list:
    """Dependencies of a TOML table {name: spec} (Poetry, Pipfile)."""
    return [Dependency(canonicalize_name(name), poetry_spec(value), source) for name, value in table.items()]


def read_pyproject(root: Path, path: Path) -> tuple:
    source = relative(root, path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    project = data.get("project", {})
    dependencies = [from_requirement(line, f"{source} [project]") for line in project.get("dependencies", [])]
    if project.get("requires-python"):
        dependencies.append(Dependency("python", project["requires-python"], f"{source} [project] requires-python"))
    for extra, lines in project.get("optional-dependencies", {}).items():
        dependencies += [from_requirement(line, f"{source} [project.optional-dependencies.{extra}]") for line in lines]
    poetry = data.get("tool", {}).get("poetry", {})
    dependencies += named(poetry.get("dependencies", {}), f"{source} [tool.poetry.dependencies]")
    dependencies += named(poetry.get("dev-dependencies", {}), f"{source} [tool.poetry.dev-dependencies]")
    for group, table in poetry.get("group", {}).items():
        dependencies += named(table.get("dependencies", {}), f"{source} [tool.poetry.group.{group}]")
    return dependencies, []


def read_pipfile(root: Path, path: Path) -> tuple:
    source = relative(root, path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return named(data.get("packages", {}), f"{source} [packages]") + named(
        data.get("dev-packages", {}), f"{source} [dev-packages]"
    ), []


def read_setup_cfg(root: Path, path: Path) -> tuple:
    source = relative(root, path)
    config = configparser.RawConfigParser()
    config.read_string(path.read_text(encoding="utf-8"))
    lines = []
    if config.has_option("options", "install_requires"):
        lines += [
            (line, f"{source} [options] install_requires")
            for line in config.get("options", "install_requires").splitlines()
        ]
    if config.has_section("options.extras_require"):
        for extra, value in config.items("options.extras_require"):
            lines += [(line, f"{source} [options.extras_require] {extra}") for line in value.splitlines()]
    return [from_requirement(line.strip(), where) for line, where in lines if line.strip()], []


def literal_strings(node, assignments: dict):
    """The strings of a list/tuple literal (or a module-level name bound to one); None if computed."""
    if isinstance(node, ast.Name) and node.id in assignments:
        node = assignments[node.id]
    if isinstance(node, (ast.List, ast.Tuple)) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts
    ):
        return [item.value for item in node.elts]
    return None


def read_setup_py(root: Path, path: Path) -> tuple:
    source = relative(root, path)
    tree = ast.parse(path.read_bytes())
    assignments = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    dependencies, hits = [], []
    for node in ast.walk(tree):
        func = getattr(node, "func", None)
        if not isinstance(node, ast.Call) or getattr(func, "id", getattr(func, "attr", None)) != "setup":
            continue
        for keyword in node.keywords:
            groups = {}
            if keyword.arg == "install_requires":
                groups = {f"{source} install_requires": keyword.value}
            elif keyword.arg == "extras_require" and isinstance(keyword.value, ast.Dict):
                groups = {
                    f"{source} extras_require {getattr(key, 'value', '?')}": value
                    for key, value in zip(keyword.value.keys, keyword.value.values, strict=True)
                }
            elif keyword.arg == "extras_require":
                groups = {f"{source} extras_require": keyword.value}
            for where, value in groups.items():
                strings = literal_strings(value, assignments)
                if strings is None:
                    hits.append(Hit(source, value.lineno, None, "DEP001", f"{keyword.arg} is computed at run time"))
                else:
                    dependencies += [from_requirement(text, where) for text in strings]
    return dependencies, hits


def reader_for(path: Path):
    name = path.name.lower()
    if name.endswith(".txt") and (name.startswith("requirements") or path.parent.name == "requirements"):
        return "requirements"
    return {
        "environment.yml": read_environment,
        "environment.yaml": read_environment,
        "pyproject.toml": read_pyproject,
        "pipfile": read_pipfile,
        "setup.cfg": read_setup_cfg,
        "setup.py": read_setup_py,
    }.get(name)


def read_dependencies(root: Path, files: list) -> tuple:
    """([Dependency], [Hit]) declared anywhere in the tree, in file order."""
    dependencies, hits, seen = [], [], set()
    for path in files:
        reader = reader_for(path)
        if reader is None:
            continue
        try:
            if reader == "requirements":
                found, problems = read_requirements(root, path, seen)
            else:
                found, problems = reader(root, path)
        except (OSError, ValueError, SyntaxError, yaml.YAMLError, configparser.Error, AttributeError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            hits.append(Hit(relative(root, path), None, None, "DEP001", reason[:200]))
            continue
        dependencies += found
        hits += problems
    return dependencies, hits
