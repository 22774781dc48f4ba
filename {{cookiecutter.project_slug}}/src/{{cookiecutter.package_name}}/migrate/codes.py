"""The finding codes: what each one means on Apple Silicon, how severe it is on each Keras major, the fix.

Severity per Keras major (2 = tf.keras 2.15, 3 = Keras 3): "error" fails on that stack, "warning" runs
but is wrong, slow or deprecated there, "info" is worth knowing; None means the code is fine on that
stack and is not reported. `keras2` marks findings that only the Keras 2 stack can run (they decide the
recommendation). `applied` says what `--apply` changes mechanically, or "" when a person must.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

TF1 = "--apply runs TensorFlow's tf_upgrade_v2 (tf.compat.v1.*); then make it eager Keras code or a tf.function"


@dataclass(frozen=True)
class Code:
    title: str
    severity: dict  # Keras major (2, 3) -> "error" | "warning" | "info" | None
    why: str
    fix: str
    keras2: bool = False
    applied: str = ""


def both(severity):
    return {2: severity, 3: severity}


CODES = {
    "TF101": Code("TF1 session", both("error"), "tf.Session is gone in TensorFlow 2 (eager by default)", TF1),
    "TF102": Code("TF1 placeholder", both("error"), "tf.placeholder is gone in TensorFlow 2", TF1),
    "TF103": Code(
        "TF1 session config",
        both("error"),
        "tf.ConfigProto / tf.GPUOptions are gone in TensorFlow 2, and their GPU memory options mean "
        "nothing to Metal's unified memory",
        "delete it; " + TF1,
    ),
    "TF104": Code(
        "TF1 optimizer",
        both("error"),
        "tf.train.*Optimizer is gone in TensorFlow 2",
        "keras.optimizers.<Name>(learning_rate=...); " + TF1,
    ),
    "TF105": Code("TF1 variable initializer", both("error"), "variable initializers are gone in TensorFlow 2", TF1),
    "TF106": Code(
        "Keras backend session",
        both("error"),
        "keras.backend has no set_session/get_session in Keras 3, nor in Keras 2.15 (the Keras 2 stack keeps "
        "them only as tf.compat.v1.keras.backend)",
        "delete it (sessions were mostly used for GPU memory options, which Metal ignores)",
    ),
    "TF107": Code(
        "tf.contrib",
        both("error"),
        "tf.contrib was removed in TensorFlow 2.0",
        "cannot be converted mechanically (tf_upgrade_v2 leaves it): use the Keras or TF2 API that replaced each part",
    ),
    "TF108": Code("TF1-only API", both("error"), "this TF1 API is gone from the TensorFlow 2 namespace", TF1),
    "DEV201": Code(
        "hard-coded GPU device",
        both("warning"),
        "on Apple Silicon the Metal GPU is GPU:0 and there is no other; with soft placement on, a missing "
        "GPU silently runs everything on the CPU",
        "drop the tf.device block and let the project's device=auto choose and assert the placement",
    ),
    "DEV202": Code(
        "CUDA_VISIBLE_DEVICES",
        both("warning"),
        "a CUDA setting: Metal ignores it, so it no longer selects or hides a GPU",
        "use the project's device= option (device=cpu hides the GPU)",
    ),
    "DEV203": Code(
        "GPU memory setting",
        both("info"),
        "Metal uses unified memory: memory growth / virtual device limits do not apply",
        "remove it, or keep it for CUDA machines only",
    ),
    "DEV204": Code(
        "CUDA-only layer",
        both("error"),
        "CuDNNLSTM / CuDNNGRU need NVIDIA cuDNN; LSTM / GRU use cuDNN themselves where it exists",
        "LSTM / GRU with the default arguments",
        applied="CuDNNLSTM -> LSTM, CuDNNGRU -> GRU",
    ),
    "XLA301": Code(
        "XLA requested",
        both("error"),
        "Metal has no XLA backend: 'Could not find compiler for platform METAL'",
        "jit_compile=False (or leave the project's trainer.jit_compile=auto, which is off on Metal)",
        applied="jit_compile=True -> jit_compile=False",
    ),
    "XLA302": Code(
        "XLA environment flag",
        both("warning"),
        "TF_XLA_FLAGS / XLA_FLAGS force XLA, which Metal does not have",
        "remove the variable",
    ),
    "K401": Code(
        "optimizer lr=",
        {2: "warning", 3: "error"},
        "lr= was renamed learning_rate= (deprecated in Keras 2, an error in Keras 3)",
        "learning_rate=",
        applied="lr= -> learning_rate=",
    ),
    "K402": Code(
        "*_generator method",
        {2: "warning", 3: "error"},
        "fit_generator / evaluate_generator / predict_generator are deprecated in Keras 2, gone in Keras 3",
        "fit / evaluate / predict take generators and keras.utils.Sequence (PyDataset in Keras 3)",
        applied="fit_generator -> fit (and evaluate/predict); on Keras 3 the workers/multiprocessing arguments go",
    ),
    "K403": Code(
        "keras.optimizers.legacy",
        {2: None, 3: "error"},
        "Keras 3 has no legacy optimizers (ImportError); on Keras 2 they are the fast ones on Apple Silicon",
        "keras.optimizers.<Name>",
        applied="keras.optimizers.legacy.<Name> -> keras.optimizers.<Name> (Keras 3 stacks only)",
    ),
    "K404": Code(
        "HDF5 (.h5) model file",
        {2: None, 3: "warning"},
        "Keras 3 saves .keras files; .h5 is legacy, and save_weights needs a name ending in .weights.h5",
        "model.save('model.keras'), save_weights('x.weights.h5')",
    ),
    "K405": Code(
        "Embedding input_length=",
        {2: None, 3: "error"},
        "Keras 3's Embedding has no input_length (TypeError)",
        "remove it; give the sequence length to keras.Input(shape=(length,))",
        applied="input_length= removed (Keras 3 stacks only)",
    ),
    "K406": Code(
        "Keras 2 internal module path",
        both("error"),
        "keras.layers.core and similar modules moved into keras.src in Keras 2.13; they are not importable",
        "import from keras.layers / keras.utils",
        applied="from keras.layers.<module> -> from keras.layers; keras.utils.np_utils -> keras.utils",
    ),
    "K407": Code(
        "mixed keras and tf.keras",
        both("warning"),
        "this file uses standalone keras and tf.keras: Keras 2.4-era projects had two different Kerases; "
        "mixing them hides which one runs",
        "use one: `import keras` on Keras 3 stacks, `from tensorflow import keras` on the Keras 2 stack",
    ),
    "K408": Code(
        "removed Keras module",
        both("error"),
        "keras.wrappers (scikit-learn wrappers) and keras.engine are gone from Keras >= 2.12 and Keras 3",
        "scikeras for the scikit-learn wrappers; keras.Model / keras.layers.Layer for engine classes",
    ),
    "IMP501": Code(
        "import that needs Keras 2",
        {2: "warning", 3: "error"},
        "a package built for Keras 2 only",
        "replace its use with Keras APIs (see the note), or stay on the Keras 2 stack",
        keras2=True,
    ),
    "IMP502": Code(
        "flagged import",
        both("warning"),
        "a package that breaks with most TensorFlow versions on Apple Silicon",
        "see the dependency note",
    ),
    "API601": Code(
        "name in no stack's API",
        both("error"),
        "the TensorFlow / Keras API of every stack lacks it (checked against each stack's installed API)",
        "see the fix",
    ),
    "API602": Code(
        "name only the Keras 2 stack has",
        {2: "warning", 3: "error"},
        "only the Keras 2 stack's API has it: it binds the project to that stack until it is replaced",
        "see the fix",
        keras2=True,
    ),
    "API603": Code(
        "name some stacks lack",
        both("error"),
        "the API of this stack lacks it (other stacks have it)",
        "see the fix",
    ),
    "MIG001": Code(
        "not upgraded by --apply",
        both("warning"),
        "--apply could not upgrade this file (the tool's reason is given): it was copied unchanged",
        "upgrade it by hand; the findings of the file say what to change",
    ),
    "PY001": Code(
        "Python 2 file",
        both("error"),
        "Python 2 syntax (print statement, except X, e:, ...): no current Python runs it",
        "port it to Python 3 (`python -m lib2to3` is gone from 3.13; use pyupgrade or do it by hand); "
        "it was not analysed further",
    ),
    "PY002": Code("syntax error", both("error"), "the file does not parse", "fix the syntax; not analysed further"),
    "PY003": Code(
        "not text", both("info"), "not UTF-8 text (binary or another encoding): skipped", "check the file by hand"
    ),
    "PY004": Code("too large", both("info"), "larger than the analysis limit: skipped", "check the file by hand"),
    "NB001": Code(
        "unreadable notebook", both("info"), "not a readable .ipynb (JSON) file: skipped", "open it in Jupyter"
    ),
    "DEP001": Code(
        "dependencies not read",
        both("warning"),
        "the dependency file could not be read statically (invalid, or computed at run time)",
        "list the dependencies in requirements.txt or pyproject.toml",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One finding. line is 1-based (None for a whole-file finding); cell is the notebook cell index."""

    path: str
    line: int | None
    cell: int | None
    code: str
    severity: str
    message: str
    fix: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """A fact found in the code, before it is judged against a stack."""

    path: str
    line: int | None
    cell: int | None
    code: str
    detail: str = ""  # what exactly was found, e.g. "tf.Session" or the package's note
    fix: str = ""  # a fix for this very hit (a known replacement), instead of the code's own
    missing_in: tuple = ()  # API60x: the stacks whose API lacks the name


def judge(hits, keras_major: int, stack: str | None = None) -> list:
    """The findings the hits mean on a stack of this Keras major (and id, for API603), in file order."""
    findings = []
    for hit in hits:
        code = CODES[hit.code]
        severity = code.severity[keras_major]
        if severity is None or hit.code == "API603" and stack is not None and stack not in hit.missing_in:
            continue
        message = f"{hit.detail}: {code.why}" if hit.detail else code.why
        fix = (hit.fix or code.fix) + (f" (--apply: {code.applied})" if code.applied and severity else "")
        findings.append(Finding(hit.path, hit.line, hit.cell, hit.code, severity, message, fix))
    return sorted(findings, key=lambda f: (f.path, f.cell or 0, f.line or 0, f.code))
