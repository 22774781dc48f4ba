"""data=csv: bad tables get one line naming the file and the column or line, before TensorFlow loads; missing
cells, delimiters, encodings and look-alike labels are handled as data.missing, data.missing_features,
data.delimiter and data.encoding say, and the log states what was found."""

import logging
import subprocess
import sys

import numpy as np
import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.runtime.datasets import DataError, prepare
from {{ cookiecutter.package_name }}.runtime.tables import delimiter_of

PACKAGE = "{{ cookiecutter.package_name }}"


def cfg_for(path, target="y", **extra):
    base = {
        "_target_": f"{PACKAGE}.data.csv.load",
        "path": str(path),
        "target": target,
        "features": None,
        "task": "auto",
    }
    return OmegaConf.create(base | {"validation_split": 0.25, "normalize": True} | extra)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def regression_table(rows=12, hole=None):
    """a, b, y: y is a number near 150; `hole` = (row, column) leaves that cell empty."""
    cells = [[f"{i}", f"{i * 1000}", f"{150 + i * 0.5}"] for i in range(rows)]
    if hole:
        cells[hole[0]][hole[1]] = ""
    return "a,b,y\n" + "".join(",".join(row) + "\n" for row in cells)


def refused(cfg) -> str:
    with pytest.raises(DataError) as error:
        prepare(cfg, seed=0)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_missing_target_is_refused_with_the_count_and_first_line_or_dropped(tmp_path, caplog):
    path = write(tmp_path / "t.csv", regression_table(hole=(3, 2)))
    message = refused(cfg_for(path))
    assert str(path) in message and "column 'y' has 1 missing value(s), the first on line 5" in message
    assert "data.missing=drop" in message

    with caplog.at_level(logging.INFO):
        dropped = prepare(cfg_for(path, missing="drop"), seed=0)
    assert dropped.spec.task == "regression", "a hole in the target never turns a regression into classes"
    assert len(dropped.x) == 11 and "1 without a target" in caplog.text


def test_a_missing_class_label_never_becomes_a_class(tmp_path):
    text = "a,y\n" + "".join(f"{i},{['cat', 'dog'][i % 2] if i != 4 else ''}\n" for i in range(10))
    path = write(tmp_path / "c.csv", text)
    assert "column 'y' has 1 missing value(s), the first on line 6" in refused(cfg_for(path))
    prepared = prepare(cfg_for(path, missing="drop"), seed=0)
    assert prepared.spec.class_names == ("cat", "dog") and len(prepared.y) == 9


def test_missing_feature_cells_are_refused_dropped_or_filled_with_the_training_mean(tmp_path, caplog):
    path = write(tmp_path / "t.csv", regression_table(hole=(2, 1)))
    message = refused(cfg_for(path))
    assert "column 'b' has a missing value on line 4" in message and "data.missing_features=mean" in message

    assert len(prepare(cfg_for(path, missing_features="drop"), seed=0).x) == 11
    with caplog.at_level(logging.INFO):
        filled = prepare(cfg_for(path, missing_features="mean"), seed=0)
    train = [i for i in filled.train_index if i != 2]
    assert filled.x[2, 1] == pytest.approx(np.mean([i * 1000 for i in train])), "the training rows' mean only"
    assert "filled 1 missing feature cell" in caplog.text


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_the_delimiter_is_sniffed_or_set(tmp_path, delimiter):
    path = write(tmp_path / "t.csv", regression_table().replace(",", delimiter))
    prepared = prepare(cfg_for(path), seed=0)
    assert prepared.spec.input_shape == (2,) and prepared.x[3].tolist() == [3.0, 3000.0]
    assert delimiter_of('"a,b";c;y\n1;2;3\n4;5;6\n', None) == ";", "a header using several: csv.Sniffer decides"
    assert "has no column 'y'" in refused(cfg_for(path, delimiter="+" if delimiter == "," else ","))
    assert delimiter_of("a\tb\n", "tab") == "\t"
    assert "must be one character" in refused(cfg_for(path, delimiter="::"))


def test_utf8_with_a_bom_reads_and_another_encoding_is_named(tmp_path):
    table = "a,b,y\n" + "".join(f"{i},{i},{'café' if i % 2 else 'thé'}\n" for i in range(8))
    assert prepare(cfg_for(write(tmp_path / "bom.csv", "\ufeff" + table)), seed=0).spec.class_names == ("café", "thé")
    path = write(tmp_path / "cp.csv", table, encoding="cp1252")
    message = refused(cfg_for(path))
    assert f"{path} is not UTF-8" in message and "byte 0xe9 on line 2" in message and "data.encoding=" in message
    assert prepare(cfg_for(path, encoding="cp1252"), seed=0).spec.class_names == ("café", "thé")
    assert "is not ascii" in refused(cfg_for(path, encoding="ascii"))


def test_labels_that_differ_in_case_or_spaces_are_listed_in_a_warning(tmp_path, caplog):
    labels = ["cat", "Cat", "dog", "dog "]
    path = write(tmp_path / "t.csv", "a,y\n" + "".join(f"{i},{labels[i % 4]}\n" for i in range(12)))
    with caplog.at_level(logging.WARNING):
        prepared = prepare(cfg_for(path), seed=0)
    assert prepared.spec.class_names == ("Cat", "cat", "dog"), "spaces around a label are dropped, case is kept"
    assert "'Cat' / 'cat'" in caplog.text and "'dog' / 'dog '" in caplog.text


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_nan_and_inf_features_are_refused(tmp_path, value):
    text = regression_table().replace("\n5,5000,", f"\n5,{value},")
    message = refused(cfg_for(write(tmp_path / "t.csv", text)))
    assert f"column 'b' has a non-finite value '{value}' on line 7" in message


def test_a_nan_target_is_refused_and_never_taken_for_labels(tmp_path):
    text = regression_table().replace("\n5,5000,152.5\n", "\n5,5000,nan\n")
    message = refused(cfg_for(write(tmp_path / "t.csv", text)))
    assert "column 'y' has a value 'nan' on line 7 that is not a finite number" in message


def test_the_log_states_the_task_classes_features_and_dropped_rows(tmp_path, caplog):
    text = "height,weight,species\n" + "".join(f"{i},{i * 2},{['a', 'b', 'b'][i % 3]}\n" for i in range(9))
    path = write(tmp_path / "t.csv", text + ",,\n4,,b\n")
    with caplog.at_level(logging.INFO):
        prepare(cfg_for(path, target="species", missing="drop", missing_features="drop"), seed=0)
    assert "9 rows; features (2): height, weight" in caplog.text
    assert "task classification (target 'species'), 2 classes: 'a' 3, 'b' 6" in caplog.text
    assert "1 with a missing feature" in caplog.text and "comma-separated" in caplog.text
    assert "2 features standardised inside the model" in caplog.text


def test_the_command_refuses_bad_data_in_one_line_before_tensorflow_loads(tmp_path):
    path = write(tmp_path / "t.csv", regression_table(hole=(0, 2)))
    code = (
        "import sys; from {{ cookiecutter.package_name }}.train import main; sys.argv[1:] = sys.argv[2:]\n"
        "try:\n    main()\nfinally:\n    assert 'tensorflow' not in sys.modules"
    )
    overrides = ["data=csv", f"data.path={path}", "data.target=y", f"hydra.run.dir={tmp_path / 'run'}"]
    done = subprocess.run([sys.executable, "-c", code, "train", *overrides], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {path} column 'y' has 1 missing value(s), the first on line 2; fill them, or drop those rows "
        "with data.missing=drop."
    ]
