"""The legacy idioms the analysis knows by name: TF1 APIs, Keras 2 spellings, GPU and XLA settings.

findings.py looks for them in the syntax tree and codemods.py fixes some of them; what is not here is
still found by looking every name up in each stack's API (removed.py).
"""

import re

PY2_MESSAGES = (
    "Missing parentheses in call to",
    "multiple exception types must be parenthesized",
    "leading zeros in decimal integer literals",
)
TF1_NAMES = {
    "TF101": {"Session", "InteractiveSession"},
    "TF102": {"placeholder", "placeholder_with_default", "sparse_placeholder"},
    "TF103": {"ConfigProto", "GPUOptions"},
    "TF105": {
        "global_variables_initializer",
        "local_variables_initializer",
        "initialize_all_variables",
        "variables_initializer",
    },
    "TF108": {
        "get_variable",
        "variable_scope",
        "reset_default_graph",
        "get_default_graph",
        "Print",
        "to_float",
        "to_int32",
        "random_normal",
        "truncated_normal",
        "log",
        "layers",
        "logging",
        "app",
        "flags",
    },
}
TF1_OPTIMIZER = re.compile(r"^train\.\w+Optimizer$")
OPTIMIZERS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl"}
GENERATOR_METHODS = {"fit_generator", "evaluate_generator", "predict_generator"}
CUDNN_LAYERS = {"CuDNNLSTM", "CuDNNGRU"}
MEMORY_CALLS = {"set_memory_growth", "set_virtual_device_configuration", "set_logical_device_configuration"}
MEMORY_ATTRIBUTES = {"allow_growth", "per_process_gpu_memory_fraction"}
SAVE_CALLS = {"save", "save_weights", "ModelCheckpoint"}
XLA_VARIABLES = {"TF_XLA_FLAGS", "XLA_FLAGS"}
GPU_DEVICE = re.compile(r"^(/job:\w+(/replica:\d+)?(/task:\d+)?)?/?(device:)?(XLA_)?GPU:\d+$", re.IGNORECASE)
KERAS_ROOTS = {"keras", "tensorflow", "tf_keras"}
# Keras 2 module paths that moved into keras.src (2.13): the same names import from these public modules.
KERAS2_MODULES = {
    **{
        f"keras.layers.{name}": "keras.layers"
        for name in (
            "core",
            "convolutional",
            "convolutional_recurrent",
            "recurrent",
            "pooling",
            "normalization",
            "embeddings",
            "merge",
            "advanced_activations",
            "noise",
            "local",
            "wrappers",
            "cudnn_recurrent",
        )
    },
    "keras.utils.np_utils": "keras.utils",
    "keras.utils.generic_utils": "keras.utils",
}
REMOVED_MODULES = ("keras.wrappers", "keras.engine", "tensorflow.keras.wrappers")
