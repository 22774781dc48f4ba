"""Names a legacy project uses that a stack does not have, judged against the API snapshot (api.py).

A dotted name missing from every stack is API601; missing from every Keras 3 stack but present on the
Keras 2 stack, API602 (it binds the project to that stack, so it drives the recommendation); missing
from some stacks only, API603 (reported for those). The fix comes from the table of known replacements
below, else from the snapshot itself: a `keras.backend` function that `keras.ops` has, or a TF1 name
that `tf.compat.v1` still has.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from . import api

LAYERS = (
    "keras.layers (tf.layers.dense -> keras.layers.Dense, conv2d -> Conv2D, ...): layer objects called on "
    "tensors; tf.compat.v1.layers works only on the Keras 2 stack"
)
SESSION = (
    "delete it: Keras 3 has no session, and neither has Keras 2.15's keras.backend (sessions mostly set "
    "GPU memory options, which Metal ignores); on the Keras 2 stack tf.compat.v1.keras.backend.get_session()"
)
MANUAL = "cannot be converted mechanically: "
UPGRADED = "what tf_upgrade_v2 writes"  # a fix that says so: --apply runs tf_upgrade_v2 on the file
# Known replacements, by the name (or a prefix of it) that is missing; `keras.` also covers `tf.keras.`.
REPLACEMENTS = {
    "tensorflow.layers": LAYERS,
    "tensorflow.compat.v1.layers": LAYERS,
    "tensorflow.gfile": "tf.io.gfile (GFile, exists, glob, makedirs, listdir; Open -> GFile, Exists -> exists)",
    "tensorflow.arg_max": "tf.math.argmax",
    "tensorflow.arg_min": "tf.math.argmin",
    "tensorflow.train.Saver": "tf.train.Checkpoint and tf.train.CheckpointManager, or save_weights('x.weights.h5')",
    "tensorflow.summary.FileWriter": "tf.summary.create_file_writer(logdir), then tf.summary.scalar(..., step=)",
    "tensorflow.estimator": MANUAL + "rewrite the model_fn / input_fn as a keras.Model trained with fit()",
    "tensorflow.compat.v1.estimator": MANUAL + "rewrite the model_fn / input_fn as a keras.Model trained with fit()",
    "tensorflow.examples": "keras.datasets (tensorflow.examples.tutorials.mnist -> keras.datasets.mnist.load_data())",
    "tensorflow.contrib": MANUAL + "use the Keras or TF2 API that replaced each tf.contrib part",
    "tensorflow.logging": "tf.get_logger() or Python's logging (absl.logging)",
    "tensorflow.app": "absl.app and absl.flags (or argparse)",
    "tensorflow.flags": "absl.flags (or argparse)",
    "keras.utils.multi_gpu_model": "tf.distribute.MirroredStrategy (build and compile in strategy.scope()); "
    "a Mac has one GPU: drop it",
    "keras.utils.training_utils": "tf.distribute.MirroredStrategy (build and compile in strategy.scope())",
    "keras.utils.vis_utils": "keras.utils.plot_model",
    "keras.backend.get_session": SESSION,
    "keras.backend.set_session": SESSION,
    "keras.backend.placeholder": "keras.Input(shape=...)",
    "keras.backend.variable": "keras.Variable(value)",
    "keras.backend.gather": "keras.ops.take(x, indices, axis=0)",
    "keras.backend.int_shape": "x.shape",
    "keras.backend.dot": "keras.ops.matmul",
    "keras.backend.pow": "keras.ops.power",
    "keras.backend.switch": "keras.ops.where(condition, x, y)",
    "keras.backend.get_value": "keras.ops.convert_to_numpy(x)",
    "keras.backend.eval": "keras.ops.convert_to_numpy(x)",
    "keras.backend.set_value": "variable.assign(value)",
    "keras.backend.learning_phase": "the training= argument of call()",
    "keras.backend.function": "call the model, or keras.Model(inputs, outputs)",
    "keras.backend.batch_flatten": "keras.layers.Flatten()",
}


@dataclass(frozen=True)
class Missing:
    code: str  # API601 / API602 / API603
    name: str  # the first missing prefix, e.g. "tensorflow.layers"
    missing_in: tuple  # the stacks that lack it
    fix: str


def keras_major(versions: dict) -> int:
    return int(str(versions.get("keras") or "3").split(".")[0])


def short(name: str) -> str:
    return name.replace("tensorflow.", "tf.", 1) if name.startswith("tensorflow.") else name


def known_fix(name: str) -> str:
    """The table's replacement for a name or the module it is in; "" when the table has none."""
    keyed = name.removeprefix("tensorflow.") if name.startswith("tensorflow.keras.") else name
    for key in sorted(REPLACEMENTS, key=len, reverse=True):
        if keyed == key or keyed.startswith(key + "."):
            return REPLACEMENTS[key]
    return ""


def replacement(name: str, apis: dict, keras3: list) -> str:
    if known_fix(name):
        return known_fix(name)
    keyed = name.removeprefix("tensorflow.") if name.startswith("tensorflow.keras.") else name
    leaf = keyed.rsplit(".", 1)[-1]
    reference = apis[keras3[0]] if keras3 else next(iter(apis.values()))
    if keyed.startswith("keras.backend.") and leaf in reference.names("keras.ops"):
        return f"keras.ops.{leaf}"
    if keyed.startswith("tensorflow.") and leaf in reference.names("tensorflow.compat.v1"):
        return f"tf.compat.v1.{leaf} ({UPGRADED}), then its TF2 form"
    return "use what the recommended stack's API offers instead (see its API documentation)"


@functools.cache
def lookup(dotted: str) -> Missing | None:
    """What is missing where for a dotted name (`tensorflow.layers.dense`); None when every stack has it."""
    apis = api.load()
    versions = api.versions()
    misses = {stack: a.missing(dotted) for stack, a in apis.items()}
    missing_in = tuple(stack for stack, miss in misses.items() if miss)
    if not missing_in:
        return None
    name = min((miss for miss in misses.values() if miss), key=len)
    keras3 = [stack for stack in apis if keras_major(versions[stack]) >= 3]
    if len(missing_in) == len(apis):
        code = "API601"
    elif set(keras3) <= set(missing_in):
        code = "API602"
    else:
        code = "API603"
    return Missing(code, name, missing_in, replacement(name, apis, keras3))


def describe(used: list) -> str:
    """A finding's detail: the expressions as written (and the missing name where it differs), and which
    stacks lack them; used is [(expression, Missing)] of one code."""
    missing = used[0][1]
    where = {
        "API601": "any stack",
        "API602": "the Keras 3 stacks (the Keras 2 stack has it)",
        "API603": ", ".join(missing.missing_in),
    }[missing.code]
    names = [text if text == short(m.name) else f"{text} ({short(m.name)})" for text, m in used]
    return f"{', '.join(names)} not in {where}"
