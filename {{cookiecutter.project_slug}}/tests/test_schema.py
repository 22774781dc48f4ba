"""A bad override is refused at once: in one or two lines, exit 1, no traceback, before TensorFlow's import
and before Hydra makes the run directory (conf/schema.py, runtime/preflight.py). Good ones keep working."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }} import bench, doctor
from {{ cookiecutter.package_name }}.conf import schema
from {{ cookiecutter.package_name }}.runtime import backend, preflight
from {{ cookiecutter.package_name }}.train import main

README = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"  # the key table

# The overrides of the issue, and the line(s) each one gets.
REFUSED = [
    ("trainer.epochs=-1", ["error: trainer.epochs=-1 must be at least 1."]),
    ("trainer.batch_size=0", ["error: trainer.batch_size=0 must be at least 1."]),
    (
        "optimizer.learning_rate=abc",
        ["error: optimizer.learning_rate=abc: Value 'abc' of type 'str' could not be converted to Float."],
    ),
    ("seed=abc", ["error: seed=abc: Value 'abc' of type 'str' could not be converted to Integer."]),
    ("data.validation_split=1.5", ["error: data.validation_split=1.5 must be at least 0 and below 1."]),
    (
        "model=transformer",
        ["error: In 'train': Could not find 'model/transformer'.", "available options in 'model': cnn, linear, mlp"],
    ),
    (
        "trainer.epoch=3",
        [
            "error: Could not override 'trainer.epoch': Key 'epoch' not in 'Trainer'.",
            "trainer has: epochs, batch_size, loss, class_weight, metrics, verbose, jit_compile, deterministic",
        ],
    ),
    ("optimizer.learning_rate=inf", ["error: optimizer.learning_rate=inf must be a finite number above 0."]),
    ("callbacks.patience=-1", ["error: callbacks.patience=-1 must be at least 0."]),
    ("device.name=tpu", ["error: device.name=tpu must be one of auto, metal, cuda, cpu."]),
    (
        "distribute.name=ring",
        [
            "error: distribute.name=ring must be none on the keras-torch stack: tf.distribute, which mirrored and "
            "multi_worker train with, is TensorFlow's."
            if backend.is_torch()
            else "error: distribute.name=ring must be one of none, mirrored, multi_worker."
        ],
    ),
]


def refusal(monkeypatch, capsys, run_dir: Path, *arguments) -> list:
    """The lines the command prints when it refuses, after checking how it refuses."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # importing it now raises ImportError
    monkeypatch.setattr(sys, "argv", ["train", *arguments, f"hydra.run.dir={run_dir}"])
    with pytest.raises(SystemExit) as stopped:
        main()
    out, err = capsys.readouterr()
    assert stopped.value.code == 1 and not out
    assert "Traceback" not in err and "HYDRA_FULL_ERROR" not in err
    assert not run_dir.exists(), "nothing is written: Hydra has not made the run directory"
    return err.splitlines()


@pytest.mark.parametrize(("override", "lines"), REFUSED, ids=[override for override, _ in REFUSED])
def test_the_issues_overrides_are_refused_in_one_or_two_lines(monkeypatch, capsys, tmp_path, override, lines):
    assert refusal(monkeypatch, capsys, tmp_path / "run", override) == lines


def test_a_sweep_is_refused_before_its_first_job(monkeypatch, capsys, tmp_path):
    lines = refusal(monkeypatch, capsys, tmp_path / "run", "-m", "trainer.epochs=2,0", f"hydra.sweep.dir={tmp_path}/s")
    assert lines == ["error: trainer.epochs=0 must be at least 1."] and not (tmp_path / "s").exists()


def test_bench_and_doctor_refuse_the_same_overrides_in_the_same_words(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    for command in (bench.main, doctor.main):
        assert command(["trainer.batch_size=0"]) == 1
        assert capsys.readouterr().err == "error: trainer.batch_size=0 must be at least 1.\n"


def test_the_command_line_refuses_in_its_own_process(tmp_path):
    """The real command: its exit status and stderr, and Hydra's own noise gone."""
    for override, lines in (REFUSED[0], REFUSED[5]):
        command = [
            sys.executable,
            "-m",
            "{{ cookiecutter.package_name }}.train",
            override,
            f"hydra.run.dir={tmp_path}/run",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stdout, result.stderr.splitlines()) == (1, "", lines)
    assert not (tmp_path / "run").exists()


def wrong_values(annotation) -> list:
    """Values of the wrong type for a key of this type, as written on the command line."""
    if annotation is int:
        return ["abc", "1.5"]
    if annotation is float:
        return ["abc", "true"]
    if annotation is bool:
        return ["abc"]
    if annotation in (str, str | None):
        return ["[1,2]"]
    if annotation in (list[str], list[str] | None, int | None):
        return ["abc"]
    assert annotation is Any, annotation
    return ["[[1]]"]  # an `any` key takes a word or a list of names: a list of lists is none of them


SCHEMA_KEYS = [(path, spec.type) for path, spec in schema.schema_keys()]
SGD = {"optimizer.momentum": ["optimizer=sgd"]}  # the key only sgd's entry gives
annotation_of = dict(SCHEMA_KEYS)
WRONG = [(path, value) for path, annotation in SCHEMA_KEYS for value in wrong_values(annotation)]


def test_every_key_of_the_schema_is_typed():
    assert {path for path, _ in SCHEMA_KEYS} >= {
        "seed",
        "trainer.epochs",
        "trainer.batch_size",
        "optimizer.learning_rate",
        "data.validation_split",
        "callbacks.patience",
        "device.name",
        "distribute.name",
    }
    assert len(WRONG) > len(SCHEMA_KEYS)


def test_a_value_of_the_wrong_type_is_refused_for_every_key(monkeypatch):
    """The wrong types of every key (from its type in the schema): one line naming the key and the value."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    for path, value in WRONG:
        line = preflight.problem([*SGD.get(path, []), f"{path}={value}"])
        assert line and "\n" not in line, (path, value, line)
        named = f"{path}={value}: " if annotation_of[path] is not Any else f"{path}={value} must be "
        assert line.startswith(named), line  # then OmegaConf's words for the type, or the values allowed


# Words that no typed key reads as its type: not a number, and none of YAML's and OmegaConf's spellings of a
# boolean or of null (y, yes, on, true, ...), nor inf or nan.
NOT_A_VALUE = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "inf", "nan", "infinity"}
WORDS = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12).filter(lambda word: word not in NOT_A_VALUE)
TYPED = [(path, annotation) for path, annotation in SCHEMA_KEYS if annotation in (int, float, bool, int | None)]


@settings(max_examples=25, derandomize=True, deadline=None)
@given(key=st.sampled_from(TYPED), word=WORDS, number=st.floats(0.01, 1e6).map(lambda value: round(value, 3)))
def test_property_a_word_or_a_fraction_where_a_number_or_a_flag_belongs_is_refused(key, word, number):
    """Property-based: any word for a number or a flag, and a fraction for a whole number, is refused in one
    line naming the key and the value, before TensorFlow (which no check here imports)."""
    path, annotation = key
    values = [word] + ([f"{number + 0.5}"] if annotation in (int, int | None) else [])
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "tensorflow", None)  # importing it now raises ImportError
        for value in values:
            line = preflight.problem([*SGD.get(path, []), f"{path}={value}"])
            assert line and "\n" not in line and line.startswith(f"{path}={value}: "), (path, value, line)


GOOD = [
    ["model=linear", "model.hidden_units=[8]"],
    ["model=mlp", "model.hidden_units=[8,4]", "model.activation=tanh"],
    ["optimizer=sgd", "optimizer.momentum=0.5", "optimizer.learning_rate=1"],
    ["+optimizer.weight_decay=0.01"],  # the optimizer's other keys go to Keras as they are
    ["device=cpu", "device.check_numerics=true", "trainer.jit_compile=false", "trainer.metrics=[mae,mse]"],
    # (tf.distribute's strategies: refused on the keras-torch stack, tests/test_train.py)
    *(
        []
        if backend.is_torch()
        else [
            ["distribute=mirrored", "distribute.devices=[/cpu:0]"],
            ["distribute=multi_worker", "distribute.workers=[a:1,b:2]", "distribute.task_index=1"],
        ]
    ),
    ["data=csv", "data.path=x.csv", "data.target=y", "data.validation_split=0", "experiment=debug"],
    ["experiment=seed", "seed=0", "resume=true", "loss_curve=false", "callbacks.patience=0"],
    ["-m", "trainer.epochs=1,2", "model=linear,mlp"],
    ["-m", "model=glob(*,exclude=cnn)", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
]


@pytest.mark.parametrize("arguments", GOOD, ids=[" ".join(arguments) for arguments in GOOD])
def test_good_overrides_pass(arguments):
    assert preflight.problem(arguments) is None


def test_the_open_groups_keep_the_users_keys_and_get_no_defaults(compose_config):
    cfg = compose_config("~data.validation_split")  # an entry without the key: the schema adds none
    schema.check(cfg)
    assert "validation_split" not in cfg.data and cfg.data.n_samples == 1000
    cfg = compose_config("data.validation_split='0.5'")  # typed as Hydra types the closed groups
    schema.check(cfg)
    assert cfg.data.validation_split == 0.5 and isinstance(cfg.data.validation_split, float)


def test_the_readme_table_is_the_schemas(compose_config):
    """The README's configuration table is `python -m <package>.conf`: the keys, types and meanings of
    conf/schema.py, with the values of the default config that `--cfg job` prints."""
    table = schema.table(compose_config())
    paste = "paste the output of python -m {{ cookiecutter.package_name }}.conf"
    assert table in README.read_text(encoding="utf-8"), paste
    for path, _ in SCHEMA_KEYS:
        assert f"| `{path}` |" in table
    assert "| `trainer.epochs` | int | `10` |" in table and OmegaConf.select(compose_config(), "trainer.epochs") == 10
