"""Which TensorFlow and Keras names each stack really has: the API snapshot, and lookups in it.

api_snapshot.json.gz holds, for every stack of the table, the names of every public module reachable
from `tensorflow` and `keras`, as apiwalk.py lists them in a virtualenv where that stack's TensorFlow and
Keras (the Apple Silicon pins; the Python API is the same on every platform) are installed. A snapshot
instead of the project's own .venv: the recommendation compares every stack, and only one is installed
here; importing TensorFlow to walk it also costs 10 s a run. The template regenerates it with
`python tests/make_api_snapshot.py` (one virtualenv per stack); the generated suite checks it against
this project's .venv.

A lookup walks a dotted name (`tensorflow.compat.v1.layers.dense`) module by module: the first part a
module does not have is the missing name; a part that is not a module (a class, a function) ends the
walk, since attributes of classes are not in the snapshot. Private parts (`_x`) and the implementation
packages (`tensorflow.python`, `keras.src`) are not judged.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("api_snapshot.json.gz")
ROOTS = ("tensorflow", "keras")
NOT_JUDGED = {"python", "src", "core", "tools"}  # implementation packages directly under a root


def merge(walks: dict) -> dict:
    """One snapshot from apiwalk.py's output per stack ({stack id: walk}): each name stored once, with
    the stacks that have it as a bit mask (bit i is the i-th stack of "stacks")."""
    stacks = list(walks)
    modules, aliases = {}, {}
    for bit, stack in enumerate(stacks):
        walk = walks[stack]
        for path, names in walk["modules"].items():
            entry = modules.setdefault(path, {"in": 0, "names": {}})
            entry["in"] |= 1 << bit
            for name in names:
                entry["names"][name] = entry["names"].get(name, 0) | 1 << bit
        for path, target in walk["aliases"].items():
            aliases.setdefault(path, {})
            aliases[path][target] = aliases[path].get(target, 0) | 1 << bit
    grouped = {}
    for path, entry in sorted(modules.items()):
        by_mask = {}
        for name, mask in sorted(entry["names"].items()):
            by_mask.setdefault(str(mask), []).append(name)
        grouped[path] = {"in": entry["in"], "names": {mask: " ".join(names) for mask, names in by_mask.items()}}
    return {
        "stacks": {stack: walks[stack]["versions"] for stack in stacks},
        "modules": grouped,
        "aliases": {path: {t: m for t, m in sorted(targets.items())} for path, targets in sorted(aliases.items())},
    }


class Api:
    """The names one stack has: modules (path -> names) and aliases (path -> the path walked first)."""

    def __init__(self, modules: dict, aliases: dict):
        self.modules = modules
        self.aliases = aliases

    def module(self, path: str) -> str | None:
        for _ in range(len(self.aliases) + 1):  # an alias of an alias; never a cycle, but bounded anyway
            if path not in self.aliases:
                break
            path = self.aliases[path]
        return path if path in self.modules else None

    def missing(self, dotted: str) -> str | None:
        """The first prefix of dotted that this stack does not have; None when it has it (or cannot say)."""
        parts = dotted.split(".")
        if parts[0] not in ROOTS or len(parts) > 1 and parts[1] in NOT_JUDGED:
            return None
        current = parts[0]
        for part in parts[1:]:
            module = self.module(current)
            if module is None or part.startswith("_"):
                return None  # a class, function or constant: its attributes are not in the snapshot
            if part not in self.modules[module]:
                return f"{current}.{part}"
            current = f"{current}.{part}"
        return None

    def has(self, dotted: str) -> bool:
        return self.missing(dotted) is None

    def names(self, module: str) -> set:
        path = self.module(module)
        return self.modules[path] if path else set()


@functools.cache
def load(path: Path = SNAPSHOT) -> dict:
    """{stack id: Api} from the snapshot file."""
    data = json.loads(gzip.decompress(path.read_bytes()))
    stacks = list(data["stacks"])
    apis = {}
    for bit, stack in enumerate(stacks):
        modules = {
            module: {name for mask, names in entry["names"].items() if int(mask) >> bit & 1 for name in names.split()}
            for module, entry in data["modules"].items()
            if entry["in"] >> bit & 1
        }
        aliases = {
            alias: target
            for alias, targets in data["aliases"].items()
            for target, mask in targets.items()
            if mask >> bit & 1
        }
        apis[stack] = Api(modules, aliases)
    return apis


def versions(path: Path = SNAPSHOT) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))["stacks"]
