"""The command line, checked before anything runs: the config composed with the overrides (every job's, for
a sweep), its types checked by Hydra and its ranges by conf/schema.py, and any refusal as one or two lines.

Hydra reports a bad override itself, but in several lines and with a hint about HYDRA_FULL_ERROR, and the
range checks would only run once Hydra had made the run directory. So the entry points compose the config
first with Hydra's compose API and the same overrides, then hand the command line to Hydra's app.
"""

from __future__ import annotations

from hydra import compose, initialize_config_module
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra._internal.utils import get_args_parser
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException, ValidationError

from ..conf import schema

CONFIG_MODULE = schema.__package__
CONFIG_NAME = "train"
# What Hydra's app does with these is not a run of this config (help, another config): Hydra reports it.
NOT_A_RUN = ("help", "hydra_help", "info", "shell_completion", "config_path", "config_dir", "config_name")


def compose_checked(overrides: list, return_hydra_config: bool = False, config_name: str = CONFIG_NAME):
    """The config as the entry points run it, checked; raises ConfigError, or Hydra's or OmegaConf's error."""
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        return checked(overrides, return_hydra_config, config_name)


def checked(overrides: list, return_hydra_config: bool, config_name: str):
    cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=return_hydra_config)
    schema.check(cfg)
    return cfg


def problem(argv: list, config_name: str = CONFIG_NAME) -> str | None:
    """Why Hydra's app (of conf/<config_name>.yaml) must not start with this command line, in one or two
    lines, or None."""
    args = get_args_parser().parse_args(argv)
    if any(getattr(args, name) for name in NOT_A_RUN) or args.experimental_rerun:
        return None
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            jobs = [args.overrides]
            if args.multirun:  # every job of the sweep, as Hydra's basic sweeper makes them (glob() included)
                parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
                parsed = parser.parse_overrides(args.overrides)
                jobs = [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
            for job in jobs:
                checked(job, False, config_name)
    except (schema.ConfigError, HydraException, OmegaConfBaseException) as error:
        return one_line(error)
    return None


def one_line(error: Exception) -> str:
    """A refusal as one line (two when the second lists what exists), keeping Hydra's and OmegaConf's words."""
    if isinstance(error, schema.ConfigError):
        return str(error)
    first = str(error).strip().splitlines()[0].rstrip(".")
    if isinstance(error, OverrideParseException):
        return f"{error.override}: {first} (see https://hydra.cc/docs/advanced/override_grammar/basic)."
    if isinstance(error, MissingConfigException) and error.options:
        group = (error.missing_cfg_file or "").rpartition("/")[0]
        return f"{first}.\navailable options in '{group}': {', '.join(error.options)}"
    cause = error if isinstance(error, OmegaConfBaseException) else error.__cause__
    if isinstance(cause, ValidationError):
        return schema.type_error(cause.full_key, cause.value, cause)
    if isinstance(cause, (ConfigKeyError, ConfigAttributeError)) and cause.parent_node is not None:
        parent = cause.full_key.rpartition(".")[0] or "the config"
        keys = ", ".join(map(str, cause.parent_node.keys()))
        added = f" (+{cause.full_key}=VALUE adds a key)" if cause.object_type is dict else ""  # an open group
        return f"{first}: {str(cause).splitlines()[0]}.\n{parent} has: {keys}{added}"
    if isinstance(cause, OmegaConfBaseException):
        return f"{first}: {str(cause).splitlines()[0]}."
    rest = [line.strip() for line in str(error).strip().splitlines()[1:] if line.strip()]
    return f"{first}." + (f"\n{'; '.join(rest)}" if rest else "")  # Hydra's hints, on a second line
