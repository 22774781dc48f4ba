{%- set torch = cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" -%}
"""The config's schema: every key the project reads, with its type, default, allowed values and meaning.

Hydra checks the types as it composes the config: the dataclasses below are structured configs in its
ConfigStore, and train.yaml lists `train_schema` first in its defaults, so every YAML file and override
merges into typed nodes (`trainer.epochs=abc` is refused there). `check` then refuses values out of range
or not in their list, before TensorFlow's import. The defaults of trainer, callbacks, device, distribute
and the top-level keys are the ones here: their YAML files set only what an option changes.

The model, data and optimizer groups stay open: their entries take the user's own keys (a `_target_`
callable's parameters, a Keras optimizer's arguments). For them the schema types only the keys the
project reads, when an entry gives them (`OPEN`). `python -m <package>.conf` prints the README's
configuration table (`table`), which a test keeps equal to it.

To add a key: one field in its dataclass, with its default, its meaning and (when it has one) its range.
"""

import math
import types
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Union, get_args, get_origin

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import ValidationError

from ..runtime.accelerator import DEVICE_CHOICES
from ..runtime.build import OPTIMIZERS
from ..runtime.distribute import NAMES as STRATEGIES
from ..runtime.numerics import SETTINGS as NUMERICS_SETTINGS

SCHEMA = "train_schema"  # its name in the ConfigStore, first in train.yaml's defaults


class ConfigError(ValueError):
    """A config value the run cannot use; the message names the key, the value and what it may be."""


def render(value) -> str:
    """A value as it is written on the command line: true, null, [a,b]."""
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value)
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, list):
        return "[" + ",".join(render(item) for item in value) + "]"
    return str(value)


# Range checks: each refuses a (typed) value with what it must be; `allowed` is the README table's wording.
def rule(allowed: str, test):
    def check(value) -> str | None:
        return None if test(value) else f"must be {allowed}"

    check.allowed = allowed
    return check


def at_least(low):
    return rule(f"at least {low}", lambda value: value >= low)


def between(low, high):
    return rule(f"between {low} and {high}", lambda value: low <= value <= high)


def one_of(*choices):
    """Compared as YAML writes them: true/false, which YAML reads as booleans, match 'true'/'false'."""
    words = [render(choice) for choice in choices]
    return rule(f"one of {', '.join(words)}", lambda value: render(value).lower() in words)


positive_finite = rule("a finite number above 0", lambda value: math.isfinite(value) and value > 0)
fraction = rule("at least 0 and below 1", lambda value: 0 <= value < 1)
auto_or_names = rule(
    "auto or a list of names, e.g. [mae,mse]",
    lambda value: value == "auto" or (isinstance(value, list) and all(isinstance(name, str) for name in value)),
)
{%- if torch %}
# The keras-torch stack has no TensorFlow: what is TensorFlow's is refused with the reason, before anything loads.
ONE_DEVICE = rule(
    f"none on the keras-torch stack: tf.distribute, which {' and '.join(STRATEGIES[1:])} train with, is TensorFlow's",
    lambda value: value == "none",
)
ONE_DEVICE.allowed = "none"
NO_TENSORBOARD = rule(
    "false on the keras-torch stack: Keras's TensorBoard callback writes its logs with tf.summary, TensorFlow's",
    lambda value: value is False,
)
NO_TENSORBOARD.allowed = "false"
{%- endif %}


def key(default, meaning: str, check=None):
    """A schema field: its default (MISSING: each option of the group sets it), what it does, its check."""
    made = {"default_factory": lambda: list(default)} if isinstance(default, list) else {"default": default}
    return field(**made, metadata={"meaning": meaning, "check": check})


@dataclass
class Trainer:
    epochs: int = key(10, "passes over the training data", at_least(1))
    batch_size: int = key(32, "examples per step (under distribute=, the global batch)", at_least(1))
    loss: str = key(
        "auto", "auto: mse for regression, sparse_categorical_crossentropy for classification; or a Keras loss"
    )
    class_weight: str | None = key(
        None, "balanced: weigh each class by n / (classes x its count) over the training rows", one_of("balanced")
    )
    metrics: Any = key(
        "auto", "auto: [mae] for regression, [accuracy] for classification; or Keras metric names", auto_or_names
    )
    verbose: int = key(2, "1: a progress bar, 2: one line per epoch, 0: silent", one_of(0, 1, 2))
{%- if torch %}
    jit_compile: Any = key(
        "auto", "auto (eager on PyTorch), true (torch.compile) or false; always off on MPS", one_of("auto", True, False)
    )
    deterministic: bool = key(
        False, "true: torch.use_deterministic_algorithms (the same numbers every run; slower on GPUs)"
    )
{%- else %}
    jit_compile: Any = key(
        "auto", "XLA: auto, true or false; always off on the Metal GPU (no XLA backend)", one_of("auto", True, False)
    )
    deterministic: bool = key(False, "true: TensorFlow's op determinism (the same numbers every run; slower on GPUs)")
{%- endif %}


@dataclass
class Callbacks:
    checkpoint: bool = key(True, "ModelCheckpoint: checkpoints/best.keras (best monitored value) and last.keras")
    monitor: str = key(
        "auto", "what checkpoint and early_stopping watch; auto: val_loss with validation data, else loss"
    )
    early_stopping: bool = key(False, "EarlyStopping on the monitored value, restoring the best weights")
    patience: int = key(5, "epochs without improvement before early_stopping stops the run", at_least(0))
    reduce_lr_on_plateau: bool = key(
        False, "ReduceLROnPlateau: the learning rate times reduce_lr_factor when the monitored value stalls"
    )
    reduce_lr_factor: float = key(0.5, "what reduce_lr_on_plateau multiplies the learning rate by", between(0, 1))
    reduce_lr_patience: int = key(2, "epochs without improvement before each reduction", at_least(0))
    terminate_on_nan: bool = key(True, "TerminateOnNaN: a NaN loss stops the run, keeping what was written")
    csv_logger: bool = key(True, "CSVLogger: history.csv, one row per epoch")
{%- if torch %}
    # Keras's TensorBoard callback writes its logs with tf.summary, and this stack has no TensorFlow.
    tensorboard: bool = key(False, "TensorBoard: TensorFlow stacks only", NO_TENSORBOARD)
{%- else %}
    tensorboard: bool = key(True, "TensorBoard: logs in tensorboard/ (make tensorboard)")
{%- endif %}
    backup_and_restore: bool = key(True, "BackupAndRestore: backup/ at every epoch end, for resume=true")


@dataclass
class Device:
{%- if torch %}
    name: str = key(
        MISSING,
        "auto: MPS on Apple Silicon, a CUDA GPU where torch sees one, else the CPU; metal: MPS",
        one_of(*DEVICE_CHOICES),
    )
{%- else %}
    name: str = key(
        MISSING, "auto: Metal on Apple Silicon, a CUDA GPU where one is visible, else the CPU", one_of(*DEVICE_CHOICES)
    )
{%- endif %}
    require_accelerator: bool = key(
        True, "a missing accelerator is an error; false: fall back to the CPU with a warning"
    )
    check_numerics: Any = key(
        "auto", "compare the device with the CPU before fitting; auto: on for metal, cuda", one_of(*NUMERICS_SETTINGS)
    )
{%- if torch %}
    allow_cpu_fallback: bool = key(
        False, "true: train on MPS with PYTORCH_ENABLE_MPS_FALLBACK=1 (ops MPS lacks run on the CPU, unannounced)"
    )
{%- endif %}


@dataclass
class Distribute:
{%- if torch %}
    name: str = key(MISSING, "none: one device; mirrored, multi_worker: TensorFlow stacks only", ONE_DEVICE)
{%- else %}
    name: str = key(
        MISSING, "none: one device; mirrored: every GPU of this machine; multi_worker: a cluster", one_of(*STRATEGIES)
    )
{%- endif %}
    devices: list[str] | None = key(None, "mirrored: the devices, e.g. [/gpu:0,/gpu:1]; null: every visible GPU")
    workers: list[str] = key([], "multi_worker: every worker's host:port, the same list on each (or TF_CONFIG)")
    task_index: int | None = key(None, "multi_worker: which of the workers this process is (0: the chief)", at_least(0))


@dataclass
class Train:
    model: Any = key(MISSING, "the model entry (conf/model/NAME.yaml, below)")
    data: Any = key(MISSING, "the data entry (conf/data/NAME.yaml, below)")
    optimizer: Any = key(MISSING, "the optimizer (conf/optimizer/NAME.yaml, below)")
    trainer: Trainer = field(default_factory=Trainer)
    callbacks: Callbacks = field(default_factory=Callbacks)
    device: Device = field(default_factory=Device)
    distribute: Distribute = field(default_factory=Distribute)
{%- if torch %}
    seed: int = key(42, "seeds Python, NumPy, torch, the validation split and the batch order", at_least(0))
{%- else %}
    seed: int = key(42, "seeds Python, NumPy, TensorFlow, the validation split and the batch order", at_least(0))
{%- endif %}
    resume: bool = key(False, "true: continue the run stopped in hydra.run.dir from its last finished epoch")
    loss_curve: bool = key(True, "loss_curve.png in the run directory")


# The open groups: the keys the project reads, typed and checked when an entry gives them; no defaults.
@dataclass
class ModelKeys:
    _target_: str = key(MISSING, "the callable that builds the model: models/NAME.py's build for the shipped ones")
    name: str = key(MISSING, "a short name for messages and the bench")


@dataclass
class DataKeys:
    _target_: str = key(MISSING, "the callable that loads the data: data/NAME.py's load for the shipped ones")
    validation_split: float = key(MISSING, "a seeded random share of the rows, held out for validation", fraction)
    test_split: float = key(MISSING, "a seeded share of the rows held out for testing (evaluate)", fraction)


@dataclass
class OptimizerKeys:
    name: str = key(MISSING, "the Keras optimizer", one_of(*OPTIMIZERS))
    learning_rate: float = key(MISSING, "the optimizer's step size", positive_finite)
    momentum: float = key(
        MISSING, "sgd: the momentum (other keys go to the Keras optimizer as they are)", between(0, 1)
    )


OPEN = {"model": ModelKeys, "data": DataKeys, "optimizer": OptimizerKeys}


def register() -> None:
    """Put the schema in Hydra's ConfigStore (the conf package does, on import: before any composition)."""
    ConfigStore.instance().store(name=SCHEMA, node=Train)


def check(cfg: DictConfig) -> None:
    """Refuse the first value of the composed config that is out of range or not in its list (raises
    ConfigError, one line), after typing the keys the open groups give."""
    for group, keys in OPEN.items():
        if group in cfg:
            type_open_group(cfg[group], group, keys)
    for path, spec in schema_keys():
        value = OmegaConf.select(cfg, path, default=None, throw_on_missing=False)
        value = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
        test = spec.metadata.get("check")
        problem = test(value) if test and value not in (None, MISSING) else None
        if problem:
            raise ConfigError(f"{path}={render(value)} {problem}.")
    data = cfg.get("data") or {}
    held_out = [name for name in ("validation_split", "test_split") if isinstance(data.get(name), (int, float))]
    if len(held_out) > 1 and sum(data[name] for name in held_out) >= 1:
        given = " + ".join(f"data.{name}={data[name]}" for name in held_out)
        raise ConfigError(f"{given} leaves no rows for training: together they must be below 1.")


def type_open_group(node, group: str, keys: type) -> None:
    """The keys `keys` declares, converted to their types as Hydra converts a typed group's (the string '0.5'
    becomes 0.5), or refused as Hydra refuses them."""
    given = {spec.name: node[spec.name] for spec in fields(keys) if spec.name in node}
    try:
        typed = OmegaConf.merge(OmegaConf.structured(keys), given)
    except ValidationError as error:
        raise ConfigError(type_error(f"{group}.{error.key}", node[error.key], error)) from None
    for name in given:
        node[name] = typed[name]


def type_error(path: str, value, error: ValidationError) -> str:
    """OmegaConf's "Value 'abc' of type 'str' could not be converted to Integer", in one line with the key."""
    return f"{path}={render(value)}: {str(error).splitlines()[0].rstrip('.')}."


def schema_keys():
    """(path, field) for every key of the schema: top-level ones, then each group's."""
    for spec in fields(Train):
        group = GROUPS.get(spec.name)
        if group is None:
            yield spec.name, spec
        else:
            yield from ((f"{spec.name}.{inner.name}", inner) for inner in fields(group))


def type_name(annotation) -> str:
    """int, float, bool, str, any, list of str, int or null: the README table's wording."""
    if get_origin(annotation) in (Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in get_args(annotation) if arg is not type(None)) + " or null"
    if get_origin(annotation) is list:
        return f"list of {type_name(get_args(annotation)[0])}"
    return "any" if annotation is Any else annotation.__name__


def table(cfg: DictConfig) -> str:
    """The README's configuration table: every key of the schema, its type, its value in the default config
    `cfg` (as `--cfg job` prints it; blank for a key the default entry does not give), what it does and the
    values it may take."""
    rows = ["| key | type | default | what it does | allowed |", "|---|---|---|---|---|"]
    for path, spec in schema_keys():
        value = OmegaConf.select(cfg, path, default=MISSING)
        shown = "" if value is MISSING else f"`{render(value)}`"
        test = spec.metadata.get("check")
        allowed = test.allowed if test else ""
        rows.append(f"| `{path}` | {type_name(spec.type)} | {shown} | {spec.metadata['meaning']} | {allowed} |")
    return "\n".join(rows) + "\n"


GROUPS = {
    **{spec.name: spec.default_factory for spec in fields(Train) if is_dataclass(spec.default_factory)},
    **OPEN,
}
