"""The migration tool against each stack's real API, notebooks as programs, --apply's isolation of what
a tool cannot handle, the upgrades that make code run, and the dependency lists. No TensorFlow and no
network here: tf_upgrade_v2 and uv are replaced where they would run (the template's tests run them)."""

import gzip
import json
import subprocess
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.migrate import api, apply, codemods, codes, resolve, tfupgrade, tree
from {{ cookiecutter.package_name }}.migrate.__main__ import main
from {{ cookiecutter.package_name }}.migrate.analysis import analyse
from {{ cookiecutter.package_name }}.migrate.recommend import recommend
from {{ cookiecutter.package_name }}.runtime.stack import read_stack_file

FIXTURES = Path(__file__).parent / "fixtures" / "legacy"
DATA = read_stack_file()
STACKS = DATA["table"]["stacks"]
# the stacks the migration moves legacy TensorFlow code to, and whose API the snapshot holds: those with TensorFlow
TENSORFLOW_STACKS = {key for key, stack in STACKS.items() if stack["tensorflow"]}
KERAS3 = [
    key
    for key, stack in STACKS.items()
    if key in TENSORFLOW_STACKS and stack["keras"] == 3 and not stack.get("experimental")
]
KERAS3_DEFAULT = DATA["chosen"] if DATA["chosen"] in KERAS3 else KERAS3[0]
REMOVED = [  # one file per API family that TensorFlow 2.16 / Keras 3 no longer have
    ("backend.py", 5, None, "API602"),
    ("backend.py", 6, None, "API602"),
    ("backend.py", 7, None, "API602"),
    ("checkpoints.py", 3, None, "API601"),
    ("checkpoints.py", 4, None, "API601"),
    ("compat_layers.py", 5, None, "API602"),
    ("estimator.py", 3, None, "API602"),
    ("files.py", 3, None, "API601"),
    ("files.py", 5, None, "API601"),
    ("multi_gpu.py", 2, None, "API601"),
    ("multi_gpu.py", 3, None, "API601"),
    ("tf1_notebook.ipynb", 2, 2, "TF101"),  # the session's cell is not the import's
    ("tf_layers.py", 5, None, "TF108"),
    ("tf_layers.py", 6, None, "TF108"),
    ("tutorials.py", 1, None, "API601"),
]
FIXES = {  # the table of known replacements, per file
    "backend.py": "keras.ops.take",
    "checkpoints.py": "tf.summary.create_file_writer",
    "compat_layers.py": "keras.layers",
    "estimator.py": "cannot be converted mechanically",
    "files.py": "tf.io.gfile",
    "multi_gpu.py": "tf.distribute.MirroredStrategy",
    "tf_layers.py": "keras.layers.Dense",
    "tutorials.py": "keras.datasets",
}


def write(root: Path, name: str, content) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def notebook(*cells, outputs=()) -> str:
    code = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": list(outputs), "source": c}
        for c in cells
    ]
    return json.dumps({"cells": code, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})


@pytest.fixture
def no_tools(monkeypatch, tmp_path):
    """Neither uv nor tf_upgrade_v2: the analysis stays offline and the TF1 upgrade is not run."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(apply, "tf_upgrade_v2", lambda: None)


def test_every_family_of_removed_api_is_found_with_its_fix():
    analysis = analyse(FIXTURES / "removed_apis", check_requirements=False)
    assert analysis.stack_id == "keras2-legacy"  # K.variable & co., tf.compat.v1.layers, tf.estimator
    keras3 = codes.judge(analysis.hits, 3, KERAS3_DEFAULT)
    assert [(f.path, f.line, f.cell, f.code) for f in keras3] == REMOVED
    assert all(f.severity == "error" for f in keras3)
    for path, fix in FIXES.items():
        assert any(f.path == path and fix in f.fix for f in keras3), path
    # on the recommended Keras 2 stack, what binds the project to it is still listed, as warnings
    keras2 = {(f.path, f.line): f for f in analysis.findings if f.code == "API602"}
    assert keras2[("backend.py", 7)].severity == "warning"
    assert "K.sum" in keras2[("backend.py", 7)].message and "K.shape" in keras2[("backend.py", 7)].message
    assert "K.variable" in analysis.reason and "compat_layers.py:5" in analysis.reason


def test_a_keras_backend_session_alone_does_not_ask_for_keras2(tmp_path):
    # Keras 2.15's keras.backend has no get_session either: only tf.compat.v1.keras.backend does
    write(tmp_path, "train.py", "from keras import backend as K\n\nsess = K.get_session()\n")
    analysis = analyse(tmp_path, check_requirements=False)
    assert analysis.stack_id == KERAS3_DEFAULT
    assert [(f.line, f.code, f.severity) for f in analysis.findings] == [(3, "TF106", "error")]
    write(tmp_path, "train.py", "import tensorflow as tf\n\nsess = tf.compat.v1.keras.backend.get_session()\n")
    analysis = analyse(tmp_path, check_requirements=False)
    assert analysis.stack_id == "keras2-legacy"  # that spelling exists on the Keras 2 stack only
    assert [f.code for f in analysis.findings] == ["API602"]


def test_clean_keras3_code_and_tf_keras_backend_are_not_findings(tmp_path):
    write(
        tmp_path,
        "model.py",
        "import keras\n\nx = keras.ops.take([1, 2], 0)\nmodel = keras.Sequential([keras.layers.Dense(1)])\n",
    )
    write(
        tmp_path,
        "legacy_ops.py",
        "import tensorflow as tf\nfrom tensorflow.keras import backend as K\n\n"
        "y = K.gather(tf.io.gfile.glob('*'), 0)  # tf.keras keeps the legacy backend\n"
        "z = tf.math.argmax([1, 2])\nfrom tensorflow.python.framework import ops  # the implementation: not judged\n",
    )
    assert analyse(tmp_path, check_requirements=False).findings == []


def test_the_snapshot_holds_every_stack_and_lookups_walk_modules_and_aliases(tmp_path):
    assert set(api.versions()) == TENSORFLOW_STACKS  # a stack without TensorFlow has no TensorFlow API to walk
    walks = {
        "old": {"versions": {}, "modules": {"tensorflow": ["layers", "compat"], "tensorflow.layers": ["dense"]},
                "aliases": {"tensorflow.compat": "tensorflow"}},
        "new": {"versions": {}, "modules": {"tensorflow": ["compat", "math"], "tensorflow.math": ["argmax"]},
                "aliases": {"tensorflow.compat": "tensorflow"}},
    }  # fmt: skip
    snapshot = tmp_path / "api.json.gz"
    snapshot.write_bytes(gzip.compress(json.dumps(api.merge(walks)).encode()))
    apis = api.load(snapshot)
    assert apis["old"].missing("tensorflow.compat.compat.layers.dense") is None  # through the alias
    assert apis["new"].missing("tensorflow.compat.layers.dense") == "tensorflow.compat.layers"
    assert apis["old"].missing("tensorflow.math.argmax") == "tensorflow.math"
    assert apis["new"].missing("tensorflow.math.argmax.__doc__") is None  # not a module: not judged further
    assert apis["new"].missing("tensorflow.python.anything") is None  # the implementation is not judged
    hit = codes.Hit("a.py", 1, None, "API603", "tf.layers", missing_in=("new",))
    assert [f.code for f in codes.judge([hit], 3, "new")] == ["API603"] and codes.judge([hit], 3, "old") == []


def test_the_recommendation_avoids_a_stack_that_lacks_a_name_the_code_uses():
    lacking = KERAS3_DEFAULT
    hit = codes.Hit("a.py", 3, None, "API603", "tf.new_thing not in " + lacking, missing_in=(lacking,))
    stack_id, reason = recommend(DATA, [], [hit])
    assert stack_id != lacking and STACKS[stack_id]["keras"] == 3 and not STACKS[stack_id].get("experimental")
    assert f"{lacking} lack tf.new_thing" in reason


def test_a_notebook_is_one_program_with_cell_and_line_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(tree, "MAX_BYTES", 2000)
    big_output = {"output_type": "display_data", "data": {"image/png": "A" * 5000}, "metadata": {}}
    write(
        tmp_path,
        "outputs.ipynb",  # 5 kB of outputs, a few bytes of code: analysed
        notebook(
            "import tensorflow as tf\n",
            "def broken(:\n",
            "%time x = 1\n!ls\nsess = tf.Session()\n",
            outputs=[big_output],
        ),
    )
    write(tmp_path, "code.ipynb", notebook("x = 1\n" * 400))  # 2.4 kB of code: over the limit
    analysis = analyse(tmp_path, check_requirements=False)
    assert [(f.path, f.line, f.cell, f.code) for f in analysis.findings] == [
        ("code.ipynb", None, None, "PY004"),
        ("outputs.ipynb", 1, 1, "PY002"),  # a cell that does not parse is reported, the others read on
        ("outputs.ipynb", 3, 2, "TF101"),
    ]


def test_apply_upgrades_notebook_cells_and_leaves_outputs_and_magics(tmp_path, capsys, no_tools):
    output = {"output_type": "stream", "name": "stdout", "text": ["ok\n"]}
    cells = [
        "%matplotlib inline\nfrom keras.optimizers import Adam\nopt = Adam(lr=0.1)\n",
        "!ls\nmodel.fit_generator(gen)",
    ]
    write(tmp_path / "legacy", "nb.ipynb", notebook(*cells, outputs=[output]))
    assert main([str(tmp_path / "legacy"), "--out", str(tmp_path / "out"), "--apply", str(tmp_path / "copy")]) == 0
    upgraded = json.loads((tmp_path / "copy" / "nb.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in upgraded["cells"]]
    assert sources == [
        "%matplotlib inline\nfrom keras.optimizers import Adam\nopt = Adam(learning_rate=0.1)\n",
        "!ls\nmodel.fit(gen)",
    ]
    assert all(cell["outputs"] == [output] for cell in upgraded["cells"])
    assert upgraded["nbformat"] == 4 and set(upgraded) == {"cells", "metadata", "nbformat", "nbformat_minor"}
    assert "(1 file(s) changed)" in capsys.readouterr().out


def test_apply_copies_what_a_tool_cannot_handle_unchanged_and_says_so(tmp_path, capsys, no_tools):
    legacy = tmp_path / "legacy"
    write(legacy, "py2.py", "print 'hello'\n")
    write(legacy, "train.py", "from keras.optimizers import SGD\n\nopt = SGD(lr=0.1)\n")
    assert main([str(legacy), "--out", str(tmp_path / "out"), "--json", "--apply", str(tmp_path / "copy")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (tmp_path / "copy" / "py2.py").read_bytes() == (legacy / "py2.py").read_bytes()
    assert "SGD(learning_rate=0.1)" in (tmp_path / "copy" / "train.py").read_text()
    (failed,) = [f for f in result["findings"] if f["code"] == "MIG001"]
    assert failed["path"] == "py2.py" and "LibCST fixes: ParserSyntaxError" in failed["message"]
    assert [entry["path"] for entry in result["applied"]["not_upgraded"]] == ["py2.py"]
    report = (tmp_path / "out" / "MIGRATION.md").read_text()
    assert "1 not upgraded, copied unchanged: py2.py" in report and "- `py2.py`: LibCST fixes" in report


def test_a_source_tf_upgrade_v2_cannot_handle_costs_only_itself(tmp_path, monkeypatch):
    class Upgrader:
        def update_string_pasta(self, text, name):
            if "[(1 - 1)" in text:
                raise ValueError("Expected '*' but found ')'")
            text = text.replace("tf.Session", "tf.compat.v1.Session").replace("tf.trainable", "tf.compat.v1.trainable")
            return 1, text, ["1:0: INFO: Renamed"], []

    assert (
        tfupgrade.upgrade(Upgrader(), "a.py", "c[(1 - 1) * 2:2] = 1")["error"]
        == "ValueError: Expected '*' but found ')'"
    )

    def fake_run(command, input, **_):  # the driver's answer, computed here without TensorFlow
        answers = [tfupgrade.upgrade(Upgrader(), job["name"], job["text"]) for job in json.loads(input)]
        return subprocess.CompletedProcess(command, 0, json.dumps(answers), "")

    monkeypatch.setattr(apply, "tf_upgrade_v2", lambda: "/venv/bin/tf_upgrade_v2")
    monkeypatch.setattr(apply.subprocess, "run", fake_run)
    legacy = tmp_path / "legacy"
    write(legacy, "bad.py", "import tensorflow as tf\nc[(1 - 1) * 2:2] = 1\ns = tf.Session()\n")
    write(legacy, "good.py", "import tensorflow as tf\ns = tf.Session()\n")
    write(legacy, "names.py", "import tensorflow as tf\nv = tf.trainable_variables()\n")  # API601, in tf.compat.v1
    applied = apply.apply(legacy, tmp_path / "copy", analyse(legacy, check_requirements=False).hits, 3, tmp_path)
    assert (tmp_path / "copy" / "bad.py").read_text() == (legacy / "bad.py").read_text()
    assert "tf.compat.v1.Session()" in (tmp_path / "copy" / "good.py").read_text()
    assert "tf.compat.v1.trainable_variables()" in (tmp_path / "copy" / "names.py").read_text()
    assert applied.failed == [("bad.py", None, "tf_upgrade_v2", "ValueError: Expected '*' but found ')'")]
    report = (tmp_path / apply.REPORT_NAME).read_text()
    assert report.startswith("bad.py: not upgraded") and "good.py:1:0: INFO: Renamed" in report  # project paths


def test_tf1_graph_code_gets_eager_execution_off_and_keras3_file_names():
    graph = "import os\nimport tensorflow as tf  # v1\n\nx = tf.compat.v1.placeholder(tf.float32)\n"
    assert codemods.fix(graph, 3, graph_mode=True).splitlines()[2] == (
        "tf.compat.v1.disable_eager_execution()  # TF1 graph code: sessions, placeholders"
    )
    assert "disable_eager" not in codemods.fix(graph, 3)  # only for files with sessions or placeholders
    compat = "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\n"
    assert codemods.fix(compat, 3, graph_mode=True) == compat  # already off
    assert "tf.disable_eager_execution()" in codemods.fix("import tensorflow.compat.v1 as tf\n", 3, graph_mode=True)
    saving = (
        "cb = ModelCheckpoint('w.{epoch:02d}.h5')\n"
        "cb = ModelCheckpoint(filepath=f'{d}/w.hdf5', save_weights_only=True)\n"
        "model.save_weights('m.h5')\nmodel.load_weights('m.h5')\nmodel.save('m.h5')\n"
    )
    assert codemods.fix(saving, 3) == (
        "cb = ModelCheckpoint('w.{epoch:02d}.keras')\n"
        "cb = ModelCheckpoint(filepath=f'{d}/w.weights.h5', save_weights_only=True)\n"
        "model.save_weights('m.weights.h5')\nmodel.load_weights('m.weights.h5')\nmodel.save('m.h5')\n"
    )
    assert codemods.fix(saving, 2) == saving  # Keras 2 takes .h5 everywhere
    layers = "import tensorflow as tf\ny = tf.layers.dense(x, 1)\n"
    assert "tf.compat.v1.layers.dense" in codemods.fix(layers, 2, compat_layers=True)
    assert codemods.fix(layers, 3) == layers  # no stack of Keras 3 has it: the finding says what to do


def test_test_and_lint_tools_go_to_the_dev_list(tmp_path, capsys, no_tools):
    write(
        tmp_path / "legacy", "requirements.txt", "numpy\nrequests==2.31.0\npytest-flake8\ncodecov>=2\ncheck-manifest\n"
    )
    assert main([str(tmp_path / "legacy"), "--out", str(tmp_path / "out"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["requirements-dev"] == ["pytest-flake8", "codecov>=2", "check-manifest"]
    assert "requests==2.31.0" in result["requirements"]
    assert not any(line.startswith(("pytest", "codecov", "check-manifest")) for line in result["requirements"])
    assert (tmp_path / "out" / "requirements-dev.txt").read_text().splitlines() == result["requirements-dev"]


def fake_uv(*stderrs):
    calls = []

    def compile_(uv, lines, python, source_builds):
        calls.append(source_builds)
        stderr = stderrs[len(calls) - 1]
        return subprocess.CompletedProcess([], 1 if stderr else 0, "", stderr)

    return compile_, calls


def test_a_pure_python_sdist_keeps_its_pin_and_one_that_compiles_is_relaxed():
    no_wheel = "  cause: Because {} has no usable wheels and you require {}, we can conclude ..."
    compile_, calls = fake_uv(no_wheel.format("keras-resnet==0.2.0", "keras-resnet==0.2.0"), "")
    probed = []
    check, own = resolve.check(["tensorflow==2.16.2"], ["keras-resnet==0.2.0"], "3.11", "uv", compile_,
                               probe=lambda uv, name, version: probed.append((name, version)))  # fmt: skip
    assert own == ["keras-resnet==0.2.0"] and check.status == "passed" and check.changes == []
    assert probed == [("keras-resnet", "0.2.0")] and calls[-1] == ("keras-resnet",)  # its sdist is allowed
    assert check.sdists == ["keras-resnet==0.2.0"] and "pure-Python sdists: keras-resnet==0.2.0" in check.detail
    compile_, _ = fake_uv(no_wheel.format("scikit-learn==0.24.2", "scikit-learn==0.24.2"), "")
    check, own = resolve.check(["tensorflow==2.16.2"], ["scikit-learn==0.24.2"], "3.11", "uv", compile_,
                               probe=lambda *_: "its sdist does not build without a compiler")  # fmt: skip
    assert own == ["scikit-learn"] and check.status == "relaxed"
    assert check.changes[0][3] == (
        "scikit-learn==0.24.2 has no macOS arm64 wheel and its sdist does not build without a compiler"
    )
