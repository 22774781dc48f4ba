"""Walk the public API of the installed TensorFlow and Keras: every module reachable from `tensorflow` and
`keras` through attributes, and the names each one holds. Standard library only, so that any stack's
virtualenv can run it as a script (it imports TensorFlow and Keras, never the legacy code):

    <venv>/bin/python apiwalk.py > api.json

It prints one JSON object: {"versions": {...}, "modules": {"tensorflow.compat.v1": [names...], ...},
"aliases": {"tensorflow.compat.v2": "tensorflow", ...}}. A module object reached a second time under
another path is an alias of the first path (tf.compat.v1.compat.v2 is tf), which ends the walk's cycles.
apisnapshot.py merges the walks of every stack into the snapshot the analysis checks names against.
"""

from __future__ import annotations

import collections
import importlib
import json
import sys
import types
import warnings

ROOTS = ("tensorflow", "keras")
# Modules of these distributions are walked into; any other module an API exposes is a plain name.
OWNERS = ("tensorflow", "keras", "tf_keras", "tensorboard")
API_PARTS = {"api", "_api", "_v1", "_v2", "_tf_keras"}


def api_module(value) -> bool:
    """A public API module of TensorFlow or Keras, not their implementation (keras.src, tensorflow.python)."""
    if not isinstance(value, types.ModuleType):
        return False
    try:
        parts = value.__name__.split(".")
    except Exception:  # a lazy module that refuses to load (TF 2.16's tf.compat.v1.layers
        return True  # under Keras 3): a module with no usable names, which is what the walk records
    implementation = ("src" in parts or "python" in parts) and not API_PARTS & set(parts)
    return parts[0] in OWNERS and not implementation


def public(name: str) -> bool:
    return not name.startswith("_") or name == "__version__"


def walk(roots=ROOTS) -> dict:
    modules, aliases, seen = {}, {}, {}
    pending = collections.deque()  # breadth first: a module's shortest path is the one kept
    for root in roots:
        try:
            pending.append((root, importlib.import_module(root)))
        except Exception:  # noqa: S112 - a stack without standalone keras simply has no such root
            continue
    while pending:
        path, module = pending.popleft()
        if id(module) in seen:
            aliases[path] = seen[id(module)]
            continue
        seen[id(module)] = path
        names = []
        try:
            listed = dir(module)
        except Exception:  # a lazy module that fails to load has no names here
            listed = []
        for name in sorted(filter(public, listed)):
            try:
                value = getattr(module, name)
            except Exception:  # noqa: S112 - listed but fails to load: not usable, so not there
                continue
            names.append(name)
            if api_module(value):
                pending.append((f"{path}.{name}", value))
        modules[path] = names
    return {"modules": modules, "aliases": aliases}


def versions() -> dict:
    found = {}
    for root in ROOTS:
        module = sys.modules.get(root)
        found[root] = getattr(module, "__version__", None) if module else None
    return found


def main() -> None:
    warnings.simplefilter("ignore")
    api = walk()
    print(json.dumps({"versions": versions(), **api}, sort_keys=True))


if __name__ == "__main__":
    main()
