"""Code findings from the syntax tree: each Python source is parsed with `ast`, never matched as text.

Names are resolved through the file's imports (`import tensorflow as tf`, `from keras import backend as K`,
`from keras.layers import CuDNNLSTM`), so `tf.Session` and `K.set_session` are recognised under any
alias, while `tf.compat.v1.Session` (which TensorFlow 2 still runs) is not reported. Beyond the known
idioms, every name used under `tensorflow` and `keras` (attribute chains and imports) is looked up in
each stack's real API (removed.py): what a stack lacks is an API60x finding, unless a code above
already says it for that name on that line.
"""

from __future__ import annotations

import ast

from . import removed
from .codes import Hit
from .idioms import (
    CUDNN_LAYERS,
    GENERATOR_METHODS,
    GPU_DEVICE,
    KERAS2_MODULES,
    KERAS_ROOTS,
    MEMORY_ATTRIBUTES,
    MEMORY_CALLS,
    OPTIMIZERS,
    PY2_MESSAGES,
    REMOVED_MODULES,
    SAVE_CALLS,
    TF1_NAMES,
    TF1_OPTIMIZER,
    XLA_VARIABLES,
)
from .packages import IMPORT_NAMES, KNOWN


def parse(source) -> tuple:
    """(syntax tree, None), or (None, PY001 for Python 2 / PY002 for any other syntax error)."""
    try:
        return ast.parse(source.text, source.path), None
    except SyntaxError as error:
        python2 = any(text in str(error.msg) for text in PY2_MESSAGES)
        detail = str(error.msg)
        return None, Hit(source.path, error.lineno, source.cell, "PY001" if python2 else "PY002", detail)
    except (ValueError, RecursionError, MemoryError) as error:  # e.g. nesting too deep for the parser
        return None, Hit(source.path, None, source.cell, "PY002", type(error).__name__)


def statements(nodes):
    """Every statement, nested ones included, without walking into expressions (imports are statements)."""
    for node in nodes:
        yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                yield from statements(children)


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


class Scanner(ast.NodeVisitor):
    def __init__(self, source, tree):
        self.source = source
        self.hits = {}  # (line, code) -> Hit: one finding per line and code
        self.used = {}  # (line, dotted name) -> the expression as written: looked up in the stacks' API
        self.covered = set()  # (line, dotted name) that a specific code already reports
        self.import_lines = set()
        self.aliases = {}
        self.keras_lines = []  # standalone keras use
        self.tf_keras_lines = []  # tf.keras use
        for node in statements(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    # `import a.b` binds a; `import a.b as c` binds c to a.b
                    bound = alias.name if alias.asname else alias.name.split(".")[0]
                    self.aliases[alias.asname or bound] = bound
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def hit(self, node, code: str, detail: str = ""):
        self.add(node.lineno, code, detail)

    def add(self, lineno: int, code: str, detail: str = "", **extra):
        line, cell = self.source.locate(lineno)
        self.hits.setdefault((lineno, code), Hit(self.source.path, line, cell, code, detail, **extra))

    def checked(self, node, full: str, text: str, check):
        """Run a specific check; what it reports for this name is not reported again by the API lookup."""
        before = len(self.hits)
        check()
        if len(self.hits) > before:
            self.covered.add((node.lineno, full))
        self.used.setdefault((node.lineno, full), text)

    def dotted(self, node) -> str | None:
        """The full dotted name an expression refers to, through the imports; None for anything else."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def module_used(self, node, module: str):
        for prefix, replacement in KERAS2_MODULES.items():
            if within(module, prefix):
                self.hit(node, "K406", f"{module} (use {replacement})")
        if any(within(module, prefix) for prefix in REMOVED_MODULES):
            self.hit(node, "K408", module)
        if within(module, "tensorflow.contrib"):
            self.hit(node, "TF107", module)
        top = module.split(".")[0]
        if top in IMPORT_NAMES:
            known = KNOWN[IMPORT_NAMES[top]]
            self.hit(node, "IMP501" if known.keras2 else "IMP502", f"{top}: {known.note}")
        if within(module, "keras"):
            self.keras_lines.append(node.lineno)
        elif within(module, "tensorflow.keras") or module == "tensorflow" and self.imports_keras_from_tf(node):
            self.tf_keras_lines.append(node.lineno)

    @staticmethod
    def imports_keras_from_tf(node) -> bool:
        return isinstance(node, ast.ImportFrom) and any(alias.name == "keras" for alias in node.names)

    def visit_Import(self, node):
        self.import_lines.add(node.lineno)
        for alias in node.names:
            self.checked(node, alias.name, alias.name, lambda name=alias.name: self.module_used(node, name))

    def visit_ImportFrom(self, node):
        self.import_lines.add(node.lineno)
        if node.module and not node.level:
            self.checked(node, node.module, node.module, lambda: self.module_used(node, node.module))
            for alias in node.names:
                if alias.name != "*":
                    full = f"{node.module}.{alias.name}"
                    self.checked(node, full, alias.name, lambda full=full: self.check_name(node, full))

    def check_name(self, node, full: str):
        if full.startswith("tensorflow."):
            rest = full[len("tensorflow.") :]
            for code, names in TF1_NAMES.items():
                if rest in names:
                    self.add(node.lineno, code, ast.unparse(node), fix=removed.known_fix(full))
            if TF1_OPTIMIZER.match(rest):
                self.hit(node, "TF104", ast.unparse(node))
            if within(rest, "contrib"):
                self.hit(node, "TF107", ast.unparse(node))
            if within(rest, "keras"):
                self.tf_keras_lines.append(node.lineno)
        parts = full.split(".")
        from_keras_or_tf = parts[0] in KERAS_ROOTS or len(parts) == 1
        if parts[-1] in CUDNN_LAYERS and from_keras_or_tf:
            self.hit(node, "DEV204", parts[-1])
        session = parts[-1] in ("set_session", "get_session") and "backend" in parts[:-1]
        if session and parts[0] in KERAS_ROOTS and not within(full, "tensorflow.compat.v1"):
            self.hit(node, "TF106", ast.unparse(node))
        if parts[-1] in MEMORY_CALLS and parts[0] == "tensorflow":
            self.hit(node, "DEV203", parts[-1])

    def visit_Name(self, node):
        # An unresolved name stays bare: `CuDNNLSTM` after `from keras.layers import *` is still found.
        self.check_name(node, self.aliases.get(node.id, node.id))

    def visit_Attribute(self, node):
        full = self.dotted(node)
        if full:
            self.checked(node, full, ast.unparse(node), lambda: self.check_name(node, full))
        if node.attr in MEMORY_ATTRIBUTES:
            self.hit(node, "DEV203", node.attr)
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            if node.value == "CUDA_VISIBLE_DEVICES":
                self.hit(node, "DEV202")
            elif node.value in XLA_VARIABLES:
                self.hit(node, "XLA302", node.value)
            elif GPU_DEVICE.match(node.value):
                self.hit(node, "DEV201", repr(node.value))

    def visit_Call(self, node):
        full = self.dotted(node.func) or ""
        last = full.split(".")[-1]
        from_keras_or_tf = full.split(".")[0] in KERAS_ROOTS or "." not in full
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
        if last in OPTIMIZERS and from_keras_or_tf and "lr" in keywords:
            self.hit(node, "K401", f"{last}(lr=...)")
        if isinstance(node.func, ast.Attribute) and node.func.attr in GENERATOR_METHODS:
            self.hit(node, "K402", node.func.attr)
        if last == "Embedding" and "input_length" in keywords:
            self.hit(node, "K405")
        for name in ("jit_compile", "experimental_compile"):
            value = keywords.get(name)
            if isinstance(value, ast.Constant) and value.value is True:
                self.hit(node, "XLA301", f"{name}=True")
        if full == "tensorflow.config.optimizer.set_jit" and node.args and isinstance(node.args[0], ast.Constant):
            if node.args[0].value:
                self.hit(node, "XLA301", "tf.config.optimizer.set_jit")
        if last in SAVE_CALLS:
            target = node.args[0] if node.args else keywords.get("filepath")
            name = h5_name(target)
            if name:
                self.hit(node, "K404", f"{last}({name!r})")
        self.generic_visit(node)

    def mixed_keras(self):
        if self.keras_lines and self.tf_keras_lines:
            self.add(max(min(self.keras_lines), min(self.tf_keras_lines)), "K407")

    def missing_names(self):
        """API60x for the names a stack lacks: one finding per line and code, naming each missing name once
        (a module missing at its import is not reported again at each use), where no code said it."""
        found, imported = {}, set()
        for (lineno, full), text in self.used.items():
            if full.split(".")[0] not in removed.api.ROOTS:
                continue
            missing = removed.lookup(full)
            if missing is None or missing.name in imported:
                continue
            if any(related(missing.name, said) for line, said in self.covered if line == lineno):
                continue
            if lineno in self.import_lines:
                imported.add(missing.name)
            found.setdefault((lineno, missing.code), {}).setdefault(missing.name, (text, missing))
        for (lineno, code), names in found.items():
            detail = removed.describe(list(names.values()))
            fixes = "; ".join(dict.fromkeys(missing.fix for _, missing in names.values()))
            missing_in = tuple(sorted({stack for _, missing in names.values() for stack in missing.missing_in}))
            self.add(lineno, code, detail, fix=fixes, missing_in=missing_in)


def related(name: str, other: str) -> bool:
    return within(name, other) or within(other, name)


def h5_name(node) -> str | None:
    """The file name when a call argument is a literal (or f-string) naming a legacy .h5 model file."""
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[-1]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        name = node.value.lower()
        if name.endswith((".h5", ".hdf5")) and not name.endswith(".weights.h5"):
            return node.value
    return None


def scan(source) -> list:
    """The hits of one source: a parse problem, or what the syntax tree shows. A notebook cell that does
    not parse is reported and left out, and the other cells are read as one program without it."""
    problems = []
    while True:
        tree, problem = parse(source)
        if problem is None:
            break
        line, cell = source.locate(problem.line)
        problems.append(Hit(problem.path, line, cell, problem.code, problem.detail))
        if cell is None:
            return problems
        source = source.without_cell(cell)
    scanner = Scanner(source, tree)
    scanner.visit(tree)
    scanner.mixed_keras()
    scanner.missing_names()
    return problems + list(scanner.hits.values())


def scan_all(sources) -> list:
    return [hit for source in sources for hit in scan(source)]
