"""The migration analysis on the legacy fixtures and on hostile trees: exact findings, dependency
actions, the recommendation, the CLI's contract. No TensorFlow and no network here."""

import copy
import hashlib
import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.migrate import codemods, codes, packages, resolve, tree
from {{ cookiecutter.package_name }}.migrate.__main__ import main
from {{ cookiecutter.package_name }}.migrate.analysis import analyse
from {{ cookiecutter.package_name }}.migrate.dependencies import read_dependencies
from {{ cookiecutter.package_name }}.migrate.findings import scan_all
from {{ cookiecutter.package_name }}.migrate.recommend import recommend, stack_lines, target
from {{ cookiecutter.package_name }}.runtime.stack import read_stack_file

FIXTURES = Path(__file__).parent / "fixtures" / "legacy"
DATA = read_stack_file()
OWN = DATA["chosen"]
STABLE_KERAS3 = [  # legacy TensorFlow code moves to a TensorFlow stack: keras-torch is never a candidate
    k
    for k, stack in DATA["table"]["stacks"].items()
    if stack["keras"] == 3 and not stack.get("experimental") and stack["tensorflow"]
]
KERAS3_DEFAULT = OWN if OWN in STABLE_KERAS3 else STABLE_KERAS3[0]  # an experimental stack is never the default
NOTEBOOK = "notebooks/data exploration.ipynb"

FINDINGS = {
    "tf1_graph": [
        ("model.py", 5, None, "TF108"),
        ("model.py", 6, None, "TF108"),
        ("model.py", 7, None, "TF108"),
        ("scripts/export_weights.py", 5, None, "PY001"),
        ("train.py", 9, None, "DEV202"),
        ("train.py", 13, None, "TF102"),
        ("train.py", 14, None, "TF102"),
        ("train.py", 15, None, "DEV201"),
        ("train.py", 18, None, "TF104"),
        ("train.py", 19, None, "TF103"),
        ("train.py", 20, None, "DEV203"),
        ("train.py", 21, None, "TF101"),
        ("train.py", 22, None, "TF105"),
    ],
    "keras24_gpu": [  # judged for Keras 2: input_length= (train.py:26) is fine there
        ("metrics_extra.py", 2, None, "IMP501"),
        (NOTEBOOK, 4, 1, "IMP501"),
        (NOTEBOOK, 6, 1, "K407"),
        (NOTEBOOK, 5, 2, "K402"),
        ("train.py", 6, None, "DEV204"),  # the import fails too
        ("train.py", 7, None, "K406"),
        ("train.py", 11, None, "DEV202"),
        ("train.py", 27, None, "DEV204"),
        ("train.py", 30, None, "K401"),
        ("train.py", 39, None, "K402"),
    ],
    "conda_macos29": [
        ("train.py", 5, None, "XLA302"),
        ("train.py", 8, None, "DEV203"),
        ("train.py", 19, None, "XLA301"),
        ("train.py", 20, None, "K401"),
        ("train.py", 24, None, "DEV201"),
        ("train.py", 26, None, "K404"),
    ],
    "clean_keras3": [],  # clean Keras 3 code: any finding is a false positive
}


def keras_action(stack_id: str) -> str:
    """A legacy keras pin is replaced by the stack's own Keras pin, or dropped where TensorFlow brings Keras."""
    return "replace" if target(DATA, stack_id).pin("keras") else "drop"


DEPENDENCIES = {
    "tf1_graph": [
        ("tensorflow", "requirements.txt", "replace"),
        ("numpy", "requirements.txt", "replace"),
        ("scipy", "requirements.txt", "replace"),
        ("tensorflow-gpu", "setup.py install_requires", "replace"),
        ("numpy", "setup.py install_requires", "replace"),
        ("h5py", "setup.py install_requires", "replace"),
        ("matplotlib", "setup.py extras_require plot", "keep"),
    ],
    "keras24_gpu": [
        ("tensorflow-gpu", "Pipfile [packages]", "replace"),
        ("keras", "Pipfile [packages]", keras_action("keras2-legacy")),
        ("tensorflow-addons", "Pipfile [packages]", "flag"),
        ("jupyter", "Pipfile [dev-packages]", "keep"),
        ("pandas", "requirements/base.txt", "replace"),
        ("matplotlib", "requirements/base.txt", "keep"),
        ("scikit-learn", "requirements/base.txt", "keep"),  # offline; uv relaxes it (template tests)
        ("tensorflow-gpu", "requirements.txt", "replace"),
        ("keras", "requirements.txt", keras_action("keras2-legacy")),
        ("tensorflow-addons", "requirements.txt", "flag"),
        ("h5py", "requirements.txt", "replace"),
        ("numpy", "requirements.txt", "replace"),
    ],
    "conda_macos29": [
        ("python", "environment.yml (conda)", "drop"),
        ("tensorflow-deps", "environment.yml (conda)", "drop"),
        ("numpy", "environment.yml (conda)", "replace"),
        ("pandas", "environment.yml (conda)", "replace"),
        ("jupyterlab", "environment.yml (conda)", "keep"),
        ("pip", "environment.yml (conda)", "drop"),
        ("tensorflow-macos", "environment.yml (pip)", "replace"),
        ("tensorflow-metal", "environment.yml (pip)", "replace"),
        ("keras-tuner", "environment.yml (pip)", "keep"),
        ("tensorflow-macos", "setup.cfg [options] install_requires", "replace"),
        ("pillow", "setup.cfg [options] install_requires", "keep"),
        ("pytest", "setup.cfg [options.extras_require] dev", "keep"),
    ],
    "clean_keras3": [
        ("tensorflow", "pyproject.toml [project]", "replace"),
        ("keras", "pyproject.toml [project]", keras_action("tensorflow-2.19")),
        ("numpy", "pyproject.toml [project]", "keep"),
        ("pandas", "pyproject.toml [project]", "keep"),
        ("python", "pyproject.toml [project] requires-python", "drop"),  # .venv brings the stack's Python
        ("pytest", "pyproject.toml [project.optional-dependencies.dev]", "keep"),
    ],
}
RECOMMENDED = {
    "tf1_graph": KERAS3_DEFAULT,
    "keras24_gpu": "keras2-legacy",
    "conda_macos29": KERAS3_DEFAULT,
    "clean_keras3": "tensorflow-2.19",  # it asks for tensorflow>=2.18
}


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def no_uv(monkeypatch, tmp_path):
    """A PATH without uv: the requirements check is skipped, as on a machine without uv."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


@pytest.mark.parametrize("fixture", list(FINDINGS))
def test_each_fixture_gets_exactly_its_findings_dependencies_and_stack(fixture):
    analysis = analyse(FIXTURES / fixture, check_requirements=False)
    assert [(f.path, f.line, f.cell, f.code) for f in analysis.findings] == FINDINGS[fixture]
    assert [(d.name, d.source, d.action) for d in analysis.dependencies] == DEPENDENCIES[fixture]
    assert analysis.stack_id == RECOMMENDED[fixture]
    stack = stack_lines(DATA, analysis.stack_id)
    assert analysis.requirements[: len(stack)] == stack  # the stack's pins first, exactly as in pyproject.toml
    if analysis.stack_id == OWN:
        assert analysis.regenerate is None
    else:
        assert analysis.regenerate.startswith("cookiecutter --no-input ")
        assert f"tensorflow_stack={analysis.stack_id}" in analysis.regenerate
        assert f"legacy_project={FIXTURES.resolve() / fixture}" in analysis.regenerate


def test_keras2_findings_become_errors_judged_for_keras3():
    analysis = analyse(FIXTURES / "keras24_gpu", check_requirements=False)
    keras3 = {(f.path, f.line, f.code): f.severity for f in codes.judge(analysis.hits, 3)}
    assert keras3[("train.py", 26, "K405")] == "error"  # input_length= is only a Keras 3 problem
    assert keras3[("train.py", 30, "K401")] == "error"
    assert "keras2-legacy" in analysis.reason and "tensorflow-addons" in analysis.reason


def test_the_suggested_requirements_come_from_the_stack_table_and_the_project():
    analysis = analyse(FIXTURES / "keras24_gpu", check_requirements=False)
    stack = DATA["table"]["stacks"]["keras2-legacy"]
    for requirement in stack["requirements"]["apple_silicon"] + stack["common"]:
        assert any(line.startswith(requirement.split(";")[0]) for line in analysis.requirements)
    assert "tensorflow-addons==0.23.0" in analysis.requirements  # the last release, built for TF 2.15
    assert "h5py>=3.8.0" in analysis.requirements and "pandas>=1.5.0" in analysis.requirements
    own = analysis.requirements[len(stack_lines(DATA, "keras2-legacy")) :]
    assert not any(line.startswith(("keras", "tensorflow")) and "addons" not in line for line in own)


def test_the_recommendation_follows_the_stack_table():
    table = copy.deepcopy(DATA)
    stacks = table["table"]["stacks"]
    stacks["tensorflow-2.99-experimental"] = dict(stacks["tensorflow-2.19"], tensorflow="2.99.0", experimental=True)
    stacks["tensorflow-2.19"]["requirements"]["apple_silicon"].append("keras==3.6.0")
    clean = analyse(FIXTURES / "clean_keras3", check_requirements=False, data=table)
    assert clean.stack_id == "tensorflow-2.19"  # an experimental stack is never recommended on its own
    keras = next(d for d in clean.dependencies if d.name == "keras")
    assert keras.action == "replace" and "keras==3.6.0" in keras.note  # the table's Keras pin, not a guess
    assert "keras==3.6.0; sys_platform == 'darwin' and platform_machine == 'arm64'" in clean.requirements
    assert recommend(table, [], [])[0] == KERAS3_DEFAULT


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("environment.yml", "dependencies:\n  - python=3.13\n  - pip\n  - pip:\n    - tensorflow==2.16.1\n"),
        ("pyproject.toml", '[project]\nname = "x"\nrequires-python = ">=3.13"\ndependencies = ["tensorflow"]\n'),
    ],
)
def test_a_python_only_the_experimental_stack_supports_is_sent_there_and_said_so(tmp_path, name, content):
    write(tmp_path, name, content)
    write(tmp_path, "train.py", "import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n")
    analysis = analyse(tmp_path, check_requirements=False)
    stacks = DATA["table"]["stacks"]
    experimental = [key for key, stack in stacks.items() if stack.get("experimental") and "3.13" in stack["python"]]
    assert analysis.stack_id == experimental[0]
    assert "needs Python 3.13" in analysis.reason and "EXPERIMENTAL" in analysis.reason
    assert "optimizer updates" in analysis.reason  # its limits are said, not hidden
    assert analysis.python == "3.13" and "python_version=3.13" in (analysis.regenerate or "python_version=3.13")


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_a_stack_without_tensorflow_is_never_recommended_even_first_in_the_table_and_the_projects_own(tmp_path, python):
    """keras-torch runs Keras 3 with no TensorFlow: even backend-neutral Keras 3 code on a Python it supports goes to
    a TensorFlow stack (the legacy code runs on TensorFlow there); docs/migration.md says when to move on."""
    table = copy.deepcopy(DATA)
    stacks = table["table"]["stacks"]
    without = {key: stack for key, stack in stacks.items() if not stack["tensorflow"]}
    assert without, "the table has a stack without TensorFlow"
    table["table"]["stacks"] = without | {key: stack for key, stack in stacks.items() if key not in without}
    table["chosen"] = next(iter(without))  # the two ways a stack is picked: the project's own, the first
    pyproject = f'[project]\nname = "x"\nrequires-python = ">={python}"\ndependencies = ["keras>=3"]\n'
    write(tmp_path, "pyproject.toml", pyproject)
    write(tmp_path, "train.py", "import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n")
    projects = [tmp_path, *(FIXTURES / fixture for fixture in FINDINGS)]
    for project in projects:
        analysis = analyse(project, check_requirements=False, data=table)
        assert stacks[analysis.stack_id]["tensorflow"], (project.name, analysis.stack_id, analysis.reason)
        assert f"tensorflow_stack={analysis.stack_id}" in analysis.regenerate


def test_a_python_a_stable_stack_supports_never_gets_the_experimental_stack(tmp_path):
    write(tmp_path, "environment.yml", "dependencies:\n  - python=3.11\n  - tensorflow=2.9\n")
    analysis = analyse(tmp_path, check_requirements=False)
    assert not DATA["table"]["stacks"][analysis.stack_id].get("experimental")
    assert "EXPERIMENTAL" not in analysis.reason


def write(root: Path, name: str, content) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def notebook(*cells) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": cell} for cell in cells], "nbformat": 4})


def test_hostile_sources_are_findings_or_skipped_never_a_crash(tmp_path, monkeypatch):
    monkeypatch.setattr(tree, "MAX_BYTES", 2000)
    write(tmp_path, "binary.py", b"\x00\x01\x02garbage")
    write(tmp_path, "latin1_without_cookie.py", b"x = '\xe9'\n")
    write(tmp_path, "huge.py", "x = 1\n" * 1000)
    write(tmp_path, "broken.py", "def f(:\n    pass\n")
    write(tmp_path, "deep.py", "x = " + "(" * 300 + ")" * 300 + "\n")
    write(tmp_path, "py2.py", "import os\n\ntry:\n    pass\nexcept ValueError, e:\n    pass\n")
    write(tmp_path, "with spaces/old session.py", "import tensorflow as tf\nsess = tf.Session()\n")
    write(tmp_path, "bad.ipynb", "{not json")
    write(tmp_path, "v3.ipynb", json.dumps({"worksheets": [], "nbformat": 3}))
    write(tmp_path, ".venv/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, ".venv/lib/site.py", "import tensorflow as tf\ntf.Session()\n")
    write(tmp_path, "env/conda-meta/history", "")
    write(tmp_path, "env/lib/x.py", "import tensorflow as tf\ntf.Session()\n")
    magics = [
        "%%bash\nls | tf.Session\n",  # another language: left out
        "%load_ext autoreload\nimport tensorflow as tf\nfiles = !ls\nfor f in files:\n    !echo {f}\n"
        "tf?\nsess = tf.Session()\n",
    ]
    write(tmp_path, "nb.ipynb", notebook(*magics))
    sources, hits = tree.read_sources(tmp_path, tree.walk(tmp_path))
    found = sorted((h.path, h.line, h.cell, h.code) for h in hits + scan_all(sources))
    assert found == [
        ("bad.ipynb", None, None, "NB001"),
        ("binary.py", None, None, "PY003"),
        ("broken.py", 1, None, "PY002"),
        ("deep.py", 1, None, "PY002"),
        ("huge.py", None, None, "PY004"),
        ("latin1_without_cookie.py", None, None, "PY003"),
        ("nb.ipynb", 7, 1, "TF101"),
        ("py2.py", 5, None, "PY001"),
        ("v3.ipynb", None, None, "NB001"),
        ("with spaces/old session.py", 2, None, "TF101"),
    ]


def test_dependency_files_are_read_statically(tmp_path):
    write(tmp_path, "requirements-dev.txt", "-r requirements.txt\npytest>=7  # tests\n-r missing.txt\n")
    write(
        tmp_path,
        "requirements.txt",
        "--index-url https://example.org/simple\n-e .\nnumpy==1.24.4 \\\n    --hash=sha256:abc\n"
        "-e git+https://example.org/repo.git#egg=private_lib\nrequests[socks]>=2; python_version < '3.12'\n",
    )
    write(tmp_path, "setup.py", "from setuptools import setup\nsetup(install_requires=open('r.txt').read().split())\n")
    write(tmp_path, "sub/environment.yml", "dependencies: [python=3.8, {pip: [tqdm==4.64.1]}, [broken")
    write(
        tmp_path,
        "pyproject.toml",
        '[tool.poetry.dependencies]\npython = "^3.8"\nrich = "^12.5"\nattrs = {version = "~21.4"}\n',
    )
    dependencies, hits = read_dependencies(tmp_path, tree.walk(tmp_path))
    assert [(d.name, d.spec, d.source) for d in dependencies] == [
        ("python", "^3.8", "pyproject.toml [tool.poetry.dependencies]"),
        ("rich", "^12.5", "pyproject.toml [tool.poetry.dependencies]"),
        ("attrs", "~21.4", "pyproject.toml [tool.poetry.dependencies]"),
        ("numpy", "==1.24.4", "requirements.txt"),
        ("private-lib", "git+https://example.org/repo.git#egg=private_lib", "requirements.txt"),
        ("requests", ">=2", "requirements.txt"),
        ("pytest", ">=7", "requirements-dev.txt"),
    ]
    assert sorted((h.path, h.line, h.code) for h in hits) == [
        ("requirements-dev.txt", 3, "DEP001"),
        ("setup.py", 2, "DEP001"),
        ("sub/environment.yml", None, "DEP001"),
    ]
    requests = dependencies[5]
    target = packages.Target("t", 3, "2.16.2", "3.11", ("tensorflow==2.16.2",), ("numpy<2",))
    assert packages.judge(requests, target).requirement == 'requests[socks]>=2; python_version < "3.12"'
    assert packages.judge(dependencies[4], target).action == "flag"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ""),
        ("*", ""),
        ("==2.4.1", "==2.4.1"),
        ("=1.21", "==1.21.*"),
        ("1.21.*", "==1.21.*"),
        ("=1.21.5=py38h1234_0", "==1.21.5.*"),
        ("^2.4", ">=2.4,<3"),
        ("^0.3.1", ">=0.3.1,<0.4"),
        ("~2.4", ">=2.4,<2.5"),
        ("2.4.1", "==2.4.1"),
        (">=1.0,<2", "<2,>=1.0"),
        ("git+https://x/y.git", None),
    ],
)
def test_version_specs_of_every_tool_become_pep440(spec, expected):
    assert packages.pep440(spec) == expected


def fake_uv(*results):
    """A uv that answers each compile with the next (returncode, stderr), recording the lines."""
    calls = []

    def compile_(uv, lines, python, source_builds):
        calls.append(list(lines))
        code, stderr = results[len(calls) - 1]
        return type("Result", (), {"returncode": code, "stderr": stderr})()

    return compile_, calls


def test_pins_that_do_not_resolve_are_relaxed_then_dropped_and_the_stack_is_never_touched():
    stack = ["tensorflow==2.16.2", "numpy<2"]
    compile_, calls = fake_uv(
        (1, "  cause: Because opencv-python==4.1.2.30 has no wheels with a matching Python ABI tag"),
        (1, "  cause: Because there is no version of opencv-python and you require opencv-python, ..."),
        (0, ""),
    )
    check, own = resolve.check(stack, ["pandas>=1.5", "opencv-python==4.1.2.30"], "3.11", "uv", compile_)
    assert own == ["pandas>=1.5"] and check.status == "relaxed"
    assert [(name, before, after) for name, before, after, _ in check.changes] == [
        ("opencv-python", "opencv-python==4.1.2.30", "opencv-python"),
        ("opencv-python", "opencv-python", None),
    ]
    assert all(call[:2] == stack for call in calls)


def test_what_the_stack_builds_from_source_is_exempt_from_wheels_only(monkeypatch):
    seen = []
    monkeypatch.setattr(resolve.subprocess, "run", lambda command, **_: seen.append(command))
    resolve.uv_compile("uv", ["tensorflow-metal-plugin==0.4.1"], "3.13", ("tensorflow-metal-plugin",))
    (command,) = seen
    assert command[command.index("--only-binary") + 1] == ":all:"
    assert command[command.index("--no-binary") + 1] == "tensorflow-metal-plugin"


def test_an_unreachable_index_is_said_as_such(monkeypatch):
    offline, _ = fake_uv((1, "hint: Packages were unavailable because the network was disabled."))
    assert resolve.check(["tensorflow==2.16.2"], ["rich"], "3.11", "uv", offline)[0].status == "skipped"
    # offline with markers, uv only says the stack's own pin has "no version": the index is what failed
    cache_only, _ = fake_uv((1, "  cause: Because there is no version of tensorflow-macos{...}==2.16.2"))
    check = resolve.check(["tensorflow-macos==2.16.2"], ["rich"], "3.11", "uv", cache_only)[0]
    assert check.status == "skipped" and "not reachable" in check.detail
    unused, calls = fake_uv()
    monkeypatch.setenv("UV_OFFLINE", "1")
    assert resolve.check(["tensorflow==2.16.2"], ["rich"], "3.11", "uv", unused)[0].status == "skipped"
    assert calls == []


def test_the_cli_contract(tmp_path, capsys, no_uv):
    legacy = FIXTURES / "keras24_gpu"
    before = tree_hash(legacy)
    out, copy_ = tmp_path / "report", tmp_path / "migrated copy"
    assert main([str(legacy), "--out", str(out), "--json", "--apply", str(copy_)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert tree_hash(legacy) == before, "the legacy tree was modified"
    assert {"recommended_stack", "stack_reason", "findings", "dependencies", "requirements"} <= set(result)
    assert result["recommended_stack"] in DATA["table"]["stacks"]
    assert all(set(f) == {"path", "line", "cell", "code", "severity", "message", "fix"} for f in result["findings"])
    assert all(set(d) == {"name", "spec", "source", "action", "note"} for d in result["dependencies"])
    assert {d["action"] for d in result["dependencies"]} <= {"keep", "replace", "drop", "flag"}
    assert (
        result["requirements_check"]["status"] == "skipped"
        and "uv is not on PATH" in result["requirements_check"]["detail"]
    )
    assert (out / "requirements.txt").read_text().splitlines() == result["requirements"]
    report = (out / "MIGRATION.md").read_text()
    assert "## Recommended stack: `keras2-legacy`" in report and "-    model.fit_generator(" in report
    assert "+    model.fit(" in report and "train.py" in result["applied"]["changed"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{tmp}/nowhere"], "does not exist or is not a folder"),
        (["{legacy}/train.py"], "does not exist or is not a folder"),
        (["{legacy}", "--out", "{legacy}/migration"], "is inside the legacy project"),
        (["{legacy}", "--out", "{tmp}/earlier"], "already exists (an earlier report)"),
        (["{legacy}", "--out", "{tmp}/new", "--apply", "{tmp}/earlier"], "is not an empty folder"),
        (["{legacy}", "--out", "{tmp}/new", "--apply", "{legacy}/copy"], "overlaps the legacy project"),
    ],
)
def test_refusals_are_one_line_exit_2_and_touch_nothing(tmp_path, capsys, arguments, message, no_uv):
    legacy = FIXTURES / "conda_macos29"
    before = tree_hash(legacy)
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / "MIGRATION.md").write_text("an earlier report")
    argv = [a.format(tmp=tmp_path, legacy=legacy) for a in arguments]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert (tmp_path / "earlier" / "MIGRATION.md").read_text() == "an earlier report"
    assert not (tmp_path / "new").exists() and tree_hash(legacy) == before


def test_every_code_and_its_severities_are_in_the_migration_page():
    readme = (Path(__file__).parents[1] / "docs" / "migration.md").read_text(encoding="utf-8")
    rows = {line.split(" | ")[0]: line for line in readme.splitlines() if line.startswith("| `")}
    for code, meaning in codes.CODES.items():
        (row,) = [line for key, line in rows.items() if f"`{code}`" in key]
        severities = [cell.strip() for cell in row.strip("|").split("|")[-2:]]
        assert severities == [meaning.severity[2] or "-", meaning.severity[3] or "-"], code


def test_codemods_keep_formatting_and_follow_the_keras_major():
    source = (
        "opt = keras.optimizers.legacy.Adam(lr=0.1)  # tuned\n"
        "model.fit_generator(\n    gen,\n    epochs=2,\n    workers=4,\n)\n"
        "emb = Embedding(100, 8, input_length=20)\n"
        "model.compile(jit_compile=True)\n"
        "from keras.layers.core import Dense\n"
        "rnn = layers.CuDNNGRU(8)\n"
    )
    keras3 = codemods.fix(source, 3)
    assert keras3 == (
        "opt = keras.optimizers.Adam(learning_rate=0.1)  # tuned\n"
        "model.fit(\n    gen,\n    epochs=2,\n)\n"
        "emb = Embedding(100, 8)\n"
        "model.compile(jit_compile=False)\n"
        "from keras.layers import Dense\n"
        "rnn = layers.GRU(8)\n"
    )
    keras2 = codemods.fix(source, 2)
    assert "keras.optimizers.legacy.Adam(learning_rate=0.1)" in keras2  # the fast ones on Apple Silicon
    assert "workers=4" in keras2 and "input_length=20" in keras2 and "model.fit(" in keras2
