"""resume=true hydra.run.dir=DIR continues the run in DIR with that run's own config (DIR/.hydra/config.yaml),
whatever the defaults are now, and keeps the run's record: Hydra's .hydra/ is not rewritten (train.py passes
hydra.output_subdir=null), and each resume's overrides are appended to .hydra/resume-overrides.yaml.

An override given with the resume may change how the run goes on (the device, the callbacks, the verbosity,
the number of epochs), never what it trains: the model, the data, the seed (which draws the split and the
initial weights), the optimizer (its state is in the backup), the loss and metrics, or a preset of them all.
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from .artifacts import RunError

SAVED_CONFIG = Path(".hydra") / "config.yaml"
RESUME_OVERRIDES = Path(".hydra") / "resume-overrides.yaml"
# What a resume may not change: a key equal to one of these, or under it.
FIXED = ("model", "data", "seed", "optimizer", "experiment", "trainer.loss", "trainer.metrics")


def parse(overrides: list) -> list:
    return OverridesParser.create().parse_overrides([text for text in overrides if "=" in text])


def resumed_run_dir(argv: list) -> Path | None:
    """DIR when the command line asks to resume (resume=true hydra.run.dir=DIR) a run that saved its config
    in DIR; None otherwise (a fresh DIR simply starts the run; Hydra reports a malformed override itself)."""
    try:
        overrides = {o.key_or_group: o.value() for o in parse([arg for arg in argv if not arg.startswith("-")])}
    except HydraException:
        return None
    run_dir = overrides.get("hydra.run.dir")
    if overrides.get("resume") is not True or not isinstance(run_dir, str):
        return None
    return Path(run_dir) if (Path(run_dir) / SAVED_CONFIG).is_file() else None


def resumed_config(run_dir: Path, composed: DictConfig, task_overrides: list) -> DictConfig:
    """The run's saved config with the resume's own overrides applied (their values as Hydra composed them);
    one that would change what the run trains is refused in one line. Repeating the run's own overrides is
    fine (a job script passes the same command again with resume=true): only a different value is refused."""
    parsed = [o for o in parse(list(task_overrides)) if o.key_or_group != "resume"]
    config = OmegaConf.load(run_dir / SAVED_CONFIG)
    fixed = [o.input_line for o in parsed if changes_what_is_trained(o.key_or_group) and differs(o, composed, config)]
    if fixed:
        raise RunError(
            f"resume=true continues the run in {run_dir} with its own config ({SAVED_CONFIG}); "
            f"{', '.join(fixed)} would change its model or data: start a new run for that."
        )
    for override in parsed:
        if not changes_what_is_trained(override.key_or_group):
            value = OmegaConf.select(composed, override.key_or_group)
            OmegaConf.update(config, override.key_or_group, value, merge=False, force_add=True)
    config.resume = True
    return config


def differs(override, composed: DictConfig, saved: DictConfig) -> bool:
    """Whether the override gives what it sets another value than the run had: a preset (experiment=) is
    judged by everything a resume may not change."""
    preset = override.key_or_group == "experiment"
    keys = [key for key in FIXED if key != "experiment"] if preset else [override.key_or_group]
    return any(plain(OmegaConf.select(composed, key)) != plain(OmegaConf.select(saved, key)) for key in keys)


def plain(value):
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def changes_what_is_trained(key: str) -> bool:
    return any(key == fixed or key.startswith(f"{fixed}.") for fixed in FIXED)


def record(run_dir: Path, task_overrides: list) -> None:
    """Append this resume's overrides to .hydra/resume-overrides.yaml (one list per resume, oldest first)."""
    path = run_dir / RESUME_OVERRIDES
    history = OmegaConf.to_container(OmegaConf.load(path)) if path.is_file() else []
    OmegaConf.save(OmegaConf.create(history + [list(task_overrides)]), path)
