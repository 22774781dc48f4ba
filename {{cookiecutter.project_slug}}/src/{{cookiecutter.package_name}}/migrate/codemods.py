"""The safe mechanical fixes, as a LibCST transformer: formatting and comments survive untouched.

Safe on both Keras majors: lr= -> learning_rate=, *_generator -> fit/evaluate/predict, CuDNNLSTM/GRU ->
LSTM/GRU, jit_compile=True -> False (Metal has no XLA), Keras 2 internal module paths -> public ones.
Only for a Keras 3 stack: the workers / multiprocessing arguments of the generator methods, Embedding's
input_length and keras.optimizers.legacy go (Keras 2 still uses them; on Apple Silicon the legacy
optimizers are the fast ones).
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

from .findings import CUDNN_LAYERS, GENERATOR_METHODS, KERAS2_MODULES, OPTIMIZERS

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


class SafeFixes(cst.CSTTransformer):
    def __init__(self, keras_major: int):
        super().__init__()
        self.keras3 = keras_major >= 3

    def leave_Call(self, original_node, updated_node):
        name = get_full_name_for_node(updated_node.func) or ""
        last = name.split(".")[-1]
        args = list(updated_node.args)
        if last in OPTIMIZERS:
            args = renamed_keyword(args, "lr", "learning_rate")
        if last == "Embedding" and self.keras3:
            args = without(args, {"input_length"})
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


def fix(text: str, keras_major: int) -> str:
    """The source with the safe fixes applied; raises libcst.ParserSyntaxError when it does not parse."""
    return cst.parse_module(text).visit(SafeFixes(keras_major)).code
