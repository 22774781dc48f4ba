"""The safe mechanical fixes, as a LibCST transformer: formatting and comments survive untouched.

Safe on both Keras majors: lr= -> learning_rate=, *_generator -> fit/evaluate/predict, CuDNNLSTM/GRU ->
LSTM/GRU, jit_compile=True -> False (Metal has no XLA), Keras 2 internal module paths -> public ones.
Only for a Keras 3 stack: the workers / multiprocessing arguments of the generator methods, Embedding's
input_length and keras.optimizers.legacy go (Keras 2 still uses them; on Apple Silicon the legacy
optimizers are the fast ones), and literal `.h5` names follow Keras 3's rules: ModelCheckpoint writes
`.keras` (or `.weights.h5` with save_weights_only=True), save_weights / load_weights use `.weights.h5`
(model.save('x.h5') still works in Keras 3 and is left alone).
`tf.layers.*` becomes `tf.compat.v1.layers.*` only for a stack whose API has it (the Keras 2 one; under
Keras 3 it raises "not available with Keras 3"): elsewhere its finding gives the manual change.
For TF1 graph code (sessions, placeholders; graph_mode=True) `tf.compat.v1.disable_eager_execution()` goes
right after the TensorFlow import: without it the tf.compat.v1 code tf_upgrade_v2 wrote fails in
TensorFlow 2's eager mode ("tf.placeholder() is not compatible with eager execution").
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

from .idioms import CUDNN_LAYERS, GENERATOR_METHODS, KERAS2_MODULES, OPTIMIZERS

RENAMED_LAYERS = {name: name.removeprefix("CuDNN") for name in CUDNN_LAYERS}
KERAS2_ONLY_ARGUMENTS = {"workers", "use_multiprocessing", "max_queue_size"}


def without(args, names: set) -> list:
    kept = [arg for arg in args if not (arg.keyword and arg.keyword.value in names)]
    if kept and kept[-1] is not args[-1]:  # the new last argument ends the call as the old last one did
        kept[-1] = kept[-1].with_changes(comma=args[-1].comma)
    return kept


def renamed_keyword(args, old: str, new: str) -> list:
    return [
        arg.with_changes(keyword=cst.Name(new)) if arg.keyword and arg.keyword.value == old else arg for arg in args
    ]


H5 = (".h5", ".hdf5")


def renamed_h5(node, suffix: str):
    """A string literal (or f-string) naming a legacy .h5 file, with its extension replaced; else None."""
    if isinstance(node, cst.FormattedString) and node.parts and isinstance(node.parts[-1], cst.FormattedStringText):
        last = node.parts[-1]
        renamed = renamed_h5(cst.SimpleString(repr(last.value)), suffix)
        if renamed is None:
            return None
        return node.with_changes(parts=[*node.parts[:-1], last.with_changes(value=renamed.evaluated_value)])
    if not isinstance(node, cst.SimpleString) or not isinstance(node.evaluated_value, str):
        return None
    quote = node.quote
    body = node.value[len(node.prefix) + len(quote) : -len(quote)]
    if body.lower().endswith(".weights.h5") or not body.lower().endswith(H5):
        return None
    stem = body[: body.lower().rindex(".h")]
    return node.with_changes(value=f"{node.prefix}{quote}{stem}{suffix}{quote}")


def with_h5_renamed(args, suffix: str) -> list:
    """The call's file name argument (first positional, or filepath=) renamed, when it is a .h5 literal."""
    for index, arg in enumerate(args):
        if (arg.keyword is None and index == 0) or (arg.keyword and arg.keyword.value == "filepath"):
            renamed = renamed_h5(arg.value, suffix)
            if renamed is not None:
                args = [*args[:index], arg.with_changes(value=renamed), *args[index + 1 :]]
            break
    return args


def is_true(args, keyword: str) -> bool:
    return any(
        a.keyword and a.keyword.value == keyword and isinstance(a.value, cst.Name) and a.value.value == "True"
        for a in args
    )


class SafeFixes(cst.CSTTransformer):
    def __init__(self, keras_major: int, compat_layers: bool = False):
        super().__init__()
        self.keras3 = keras_major >= 3
        self.compat_layers = compat_layers  # the stack has tf.compat.v1.layers: tf.layers.* moves there
        self.tensorflow = set()  # the names `import tensorflow [as x]` binds

    def visit_Import(self, node):
        for alias in node.names:
            if get_full_name_for_node(alias.name) == "tensorflow":
                self.tensorflow.add(alias.asname.name.value if alias.asname else "tensorflow")

    def leave_Call(self, original_node, updated_node):
        name = get_full_name_for_node(updated_node.func) or ""
        last = name.split(".")[-1]
        args = list(updated_node.args)
        if last in OPTIMIZERS:
            args = renamed_keyword(args, "lr", "learning_rate")
        if last == "Embedding" and self.keras3:
            args = without(args, {"input_length"})
        if self.keras3 and last == "ModelCheckpoint":
            args = with_h5_renamed(args, ".weights.h5" if is_true(args, "save_weights_only") else ".keras")
        if self.keras3 and last in ("save_weights", "load_weights"):
            args = with_h5_renamed(args, ".weights.h5")
        func = updated_node.func
        if isinstance(func, cst.Attribute) and func.attr.value in GENERATOR_METHODS:
            func = func.with_changes(attr=cst.Name(func.attr.value.removesuffix("_generator")))
            if self.keras3:
                args = without(args, KERAS2_ONLY_ARGUMENTS)
        args = [
            arg.with_changes(value=cst.Name("False"))
            if arg.keyword
            and arg.keyword.value in ("jit_compile", "experimental_compile")
            and isinstance(arg.value, cst.Name)
            and arg.value.value == "True"
            else arg
            for arg in args
        ]
        return updated_node.with_changes(func=func, args=args)

    def leave_Name(self, original_node, updated_node):
        if updated_node.value in RENAMED_LAYERS:
            return updated_node.with_changes(value=RENAMED_LAYERS[updated_node.value])
        return updated_node

    def leave_Attribute(self, original_node, updated_node):
        if self.compat_layers and updated_node.attr.value == "layers":
            base = updated_node.value
            if isinstance(base, cst.Name) and base.value in self.tensorflow:
                return cst.parse_expression(f"{base.value}.compat.v1.layers")
        # X.optimizers.legacy -> X.optimizers (a Keras 3 stack has no legacy optimizers)
        if self.keras3 and updated_node.attr.value == "legacy":
            parent = get_full_name_for_node(updated_node.value) or ""
            if parent.endswith("optimizers"):
                return updated_node.value
        return updated_node

    def leave_ImportFrom(self, original_node, updated_node):
        if updated_node.relative or updated_node.module is None:
            return updated_node
        module = get_full_name_for_node(updated_node.module)
        replacement = KERAS2_MODULES.get(module)
        if self.keras3 and module.endswith("optimizers.legacy"):
            replacement = module.removesuffix(".legacy")
        if replacement:
            return updated_node.with_changes(module=cst.parse_expression(replacement))
        return updated_node


def eager_off_after(statement) -> str | None:
    """`<alias>.compat.v1` when the statement imports TensorFlow (`import tensorflow as tf`), else None."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if isinstance(small, cst.Import):
            for alias in small.names:
                module = get_full_name_for_node(alias.name)
                bound = alias.asname.name.value if alias.asname else module
                if module == "tensorflow":
                    return f"{bound}.compat.v1"
                if module == "tensorflow.compat.v1" and alias.asname:
                    return bound
    return None


def with_eager_off(module: cst.Module) -> tuple:
    """(module, True) with disable_eager_execution() after its first top-level TensorFlow import;
    (module, False) when it has none, or already turns eager mode (or all of TF2) off."""
    if "disable_eager_execution" in module.code or "disable_v2_behavior" in module.code:
        return module, False
    for index, statement in enumerate(module.body):
        target = eager_off_after(statement)
        if target:
            call = cst.parse_statement(
                f"{target}.disable_eager_execution()  # TF1 graph code: sessions, placeholders\n"
            )
            return module.with_changes(body=[*module.body[: index + 1], call, *module.body[index + 1 :]]), True
    return module, False


def fix(text: str, keras_major: int, graph_mode: bool = False, compat_layers: bool = False) -> str:
    """The source with the safe fixes applied (and eager execution turned off after its TensorFlow import
    when graph_mode; tf.layers -> tf.compat.v1.layers when compat_layers); raises
    libcst.ParserSyntaxError when it does not parse."""
    module = cst.parse_module(text).visit(SafeFixes(keras_major, compat_layers))
    return (with_eager_off(module)[0] if graph_mode else module).code
