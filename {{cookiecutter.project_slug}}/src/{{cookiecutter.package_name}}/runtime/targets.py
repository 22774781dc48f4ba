"""The `_target_` of a model or data entry (conf/model/NAME.yaml, conf/data/NAME.yaml): found, imported and
called as Hydra's `instantiate` would, with a one-line refusal that names the YAML file and the callable
when it cannot be. `importable` needs no import of the module itself, so it runs before TensorFlow's."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging

from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

log = logging.getLogger(__name__)


def config_file(group: str) -> str:
    """Where the group's entry came from, for messages: conf/model/mlp.yaml under `python -m ...train`, or
    "the model config" for a config composed without Hydra's app (tests, notebooks)."""
    try:
        choice = HydraConfig.get().runtime.choices.get(group)
    except ValueError:
        choice = None
    return f"conf/{group}/{choice}.yaml" if choice else f"the {group} config"


def target_of(cfg, group: str, error: type) -> str:
    target = cfg.get("_target_") if cfg is not None else None
    if not isinstance(target, str) or not target.strip():
        raise error(f"{config_file(group)} has no _target_: it must name the callable that makes the {group}.")
    return target


def module_exists(name: str) -> bool:
    """Whether the module can be found; its parent packages are imported, it is not."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent that is missing, or no package
        return False


def split(target: str) -> tuple:
    """('pkg.models.mlp', 'build') for 'pkg.models.mlp.build': the longest prefix that is a module."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        if module_exists(module):
            return module, ".".join(parts[cut:])
    return None, target


def importable(cfg, group: str, error: type) -> str:
    """The `_target_` string, once its module is known to exist (its parents are imported, not it)."""
    target = target_of(cfg, group, error)
    module, attribute = split(target)
    missing = None if module else target.rpartition(".")[0] or target
    first = attribute.split(".")[0]
    # In a package (models/, data/), the next name must be a submodule or defined in its __init__.py, which
    # finding its submodules has imported already; a module's own names would need the module imported.
    if module and importlib.util.find_spec(module).submodule_search_locations is not None:
        if not hasattr(importlib.import_module(module), first) and "." in attribute:
            missing = f"{module}.{first}"
    if missing:
        raise error(f"{config_file(group)}: _target_ {target} cannot be imported: no module {missing!r}.")
    return target


def resolve(cfg, group: str, error: type):
    """The callable the entry names, imported."""
    target = importable(cfg, group, error)
    module_name, attribute = split(target)
    try:
        found = importlib.import_module(module_name)
        for name in attribute.split("."):
            if not hasattr(found, name):  # a submodule is an attribute of its package only once imported
                submodule = f"{found.__name__}.{name}" if inspect.ismodule(found) else None
                if not submodule or not module_exists(submodule):
                    owner = getattr(found, "__name__", type(found).__name__)
                    raise AttributeError(f"{owner!r} has no attribute {name!r}")
                importlib.import_module(submodule)
            found = getattr(found, name)
    except (ImportError, AttributeError) as problem:
        raise error(f"{config_file(group)}: _target_ {target} cannot be imported: {problem}.") from None
    if not callable(found):
        raise error(f"{config_file(group)}: _target_ {target} is a {type(found).__name__}, not a callable.")
    return found


def call(function, cfg, group: str, **given):
    """The callable with the entry's other keys and `given`. Keys it takes no parameter for are left out
    (a preset such as experiment=debug sets data.n_samples whatever the loader), unless it takes **kwargs."""
    params = OmegaConf.to_container(cfg, resolve=True)
    params = {key: value for key, value in params.items() if key != "_target_" and key not in given}
    try:
        accepted = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin without a readable signature: it gets every key
        accepted = ()
    if accepted and not any(parameter.kind is parameter.VAR_KEYWORD for parameter in accepted):
        names = {parameter.name for parameter in accepted}
        ignored = sorted(set(params) - names)
        if ignored:
            log.info("%s: %s takes no %s; left out", config_file(group), cfg._target_, ", ".join(ignored))
        params = {key: value for key, value in params.items() if key in names}
    return function(**params, **given)
