"""Bake the template with defaults and with unusual valid answers; check every generated file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib

import pytest
from helpers import (
    DEFAULT_PACKAGE,
    STACKS,
    TEMPLATE,
    assert_rendered_and_parsing,
    bake,
    files_of,
    is_torch,
    markdown_unescaped,
    tensorflow_only,
)

# The legacy projects the migration tests analyse (copied as they are: never rendered, never linted).
LEGACY_FILES = [
    "clean_keras3/notebooks/explore.ipynb",
    "clean_keras3/pyproject.toml",
    "clean_keras3/src/forecast/__init__.py",
    "clean_keras3/src/forecast/model.py",
    "clean_keras3/src/forecast/train.py",
    "conda_macos29/environment.yml",
    "conda_macos29/setup.cfg",
    "conda_macos29/train.py",
    "keras24_gpu/Pipfile",
    "keras24_gpu/metrics_extra.py",
    "keras24_gpu/notebooks/data exploration.ipynb",
    "keras24_gpu/requirements.txt",
    "keras24_gpu/requirements/base.txt",
    "keras24_gpu/train.py",
    "removed_apis/backend.py",
    "removed_apis/checkpoints.py",
    "removed_apis/compat_layers.py",
    "removed_apis/estimator.py",
    "removed_apis/files.py",
    "removed_apis/multi_gpu.py",
    "removed_apis/tf1_notebook.ipynb",
    "removed_apis/tf_layers.py",
    "removed_apis/tutorials.py",
    "runnable/keras23_mlp.py",
    "runnable/tf1_linear_regression.py",
    "runnable/tf1_session.ipynb",
    "runnable/tf1_slices.py",
    "tf1_graph/README.md",
    "tf1_graph/model.py",
    "tf1_graph/requirements.txt",
    "tf1_graph/scripts/export_weights.py",
    "tf1_graph/setup.py",
    "tf1_graph/train.py",
]
EXPECTED_FILES = {
    ".github/workflows/ci.yml",
    ".gitignore",
    "LICENSE",
    ".pre-commit-config.yaml",
    "Makefile",
    "README.md",
    "docs/ci.md",
    "docs/configuration.md",
    "docs/data.md",
    "docs/migration.md",
    "docs/numerics.md",
    "docs/runs.md",
    "docs/scaling-out.md",
    "docs/stack.md",
    "docs/troubleshooting.md",
    "docs/verify.md",
    "bootstrap.py",
    "bootstrap_faults.py",
    "bootstrap_locks.py",
    "bootstrap_pythons.py",
    "pyproject.toml",
    "requirements.lock",
    "requirements-cuda.lock",
    "requirements-tf-keras.lock",
    "requirements-export.lock",
    "src/PKG/__init__.py",
    "src/PKG/runtime/accelerator.py",
    "src/PKG/runtime/artifacts.py",
    "src/PKG/runtime/backend.py",
    "src/PKG/bench.py",
    "src/PKG/export.py",
    "src/PKG/runtime/callbacks.py",
    "src/PKG/runtime/cuda.py",
    "src/PKG/runtime/datasets.py",
    "src/PKG/runtime/distribute.py",
    "src/PKG/doctor.py",
    "src/PKG/runtime/environment.py",
    "src/PKG/runtime/tensorflow_checks.py",
    "src/PKG/runtime/torch_checks.py",
    "src/PKG/runtime/exporting.py",
    "src/PKG/runtime/exporting_tf.py",
    "src/PKG/runtime/exporting_torch.py",
    "src/PKG/runtime/build.py",
    "src/PKG/runtime/numerics.py",
    "src/PKG/runtime/tensorflow_numerics.py",
    "src/PKG/runtime/torch_numerics.py",
    "src/PKG/runtime/pipelines.py",
    "src/PKG/runtime/array_batches.py",
    "src/PKG/runtime/session.py",
    "src/PKG/runtime/start_tensorflow.py",
    "src/PKG/runtime/start_torch.py",
    "src/PKG/runtime/resume.py",
    "src/PKG/runtime/signatures.py",
    "src/PKG/runtime/stack.json",
    "src/PKG/runtime/stack.py",
    "src/PKG/runtime/summary.py",
    "src/PKG/runtime/image_folders.py",
    "src/PKG/runtime/preprocessing.py",
    "src/PKG/runtime/tables.py",
    "src/PKG/train.py",
    "src/PKG/evaluate.py",
    "src/PKG/predict.py",
    "src/PKG/runtime/rundir.py",
    "src/PKG/runtime/plots.py",
    "src/PKG/runtime/__init__.py",
    "src/PKG/runtime/targets.py",
    "src/PKG/runtime/torch_devices.py",
    "src/PKG/runtime/preflight.py",
    "src/PKG/models/__init__.py",
    "src/PKG/models/cnn.py",
    "src/PKG/models/linear.py",
    "src/PKG/models/mlp.py",
    "src/PKG/data/__init__.py",
    "src/PKG/data/csv.py",
    "src/PKG/data/images.py",
    "src/PKG/data/npz.py",
    "src/PKG/data/synthetic.py",
    "src/PKG/conf/__init__.py",
    "src/PKG/conf/__main__.py",
    "src/PKG/conf/schema.py",
    "src/PKG/conf/train.yaml",
    "src/PKG/conf/export.yaml",
    "src/PKG/conf/callbacks/default.yaml",
    "src/PKG/conf/data/csv.yaml",
    "src/PKG/conf/data/images.yaml",
    "src/PKG/conf/data/npz.yaml",
    "src/PKG/conf/data/synthetic.yaml",
    "src/PKG/conf/device/auto.yaml",
    "src/PKG/conf/distribute/mirrored.yaml",
    "src/PKG/conf/distribute/multi_worker.yaml",
    "src/PKG/conf/distribute/none.yaml",
    "src/PKG/conf/device/cpu.yaml",
    "src/PKG/conf/device/cuda.yaml",
    "src/PKG/conf/device/metal.yaml",
    "src/PKG/conf/experiment/debug.yaml",
    "src/PKG/conf/experiment/seed.yaml",
    "src/PKG/conf/model/cnn.yaml",
    "src/PKG/conf/model/linear.yaml",
    "src/PKG/conf/model/mlp.yaml",
    "src/PKG/conf/optimizer/adam.yaml",
    "src/PKG/conf/optimizer/sgd.yaml",
    "src/PKG/conf/trainer/default.yaml",
    "src/PKG/migrate/__init__.py",
    "src/PKG/migrate/__main__.py",
    "src/PKG/migrate/analysis.py",
    "src/PKG/migrate/api.py",
    "src/PKG/migrate/api_snapshot.json.gz",
    "src/PKG/migrate/apiwalk.py",
    "src/PKG/migrate/apply.py",
    "src/PKG/migrate/codemods.py",
    "src/PKG/migrate/codes.py",
    "src/PKG/migrate/dependencies.py",
    "src/PKG/migrate/findings.py",
    "src/PKG/migrate/idioms.py",
    "src/PKG/migrate/packages.py",
    "src/PKG/migrate/recommend.py",
    "src/PKG/migrate/removed.py",
    "src/PKG/migrate/report.py",
    "src/PKG/migrate/resolve.py",
    "src/PKG/migrate/tfupgrade.py",
    "src/PKG/migrate/tree.py",
    "tests/conftest.py",
    "tests/markers.py",
    "tests/test_accelerator.py",
    "tests/test_bootstrap.py",
    "tests/test_config.py",
    "tests/test_schema.py",
    "tests/test_cuda.py",
    "tests/test_data.py",
    "tests/test_distribute.py",
    "tests/test_doctor.py",
    "tests/test_environment.py",
    "tests/test_export.py",
    "tests/test_image_folders.py",
    "tests/test_metal.py",
    "tests/test_model.py",
    "tests/test_numerics.py",
    "tests/test_torch_devices.py",
    "tests/test_stack.py",
    "tests/test_tables.py",
    "tests/test_tensorboard.py",
    "tests/test_launchers.py",
    "tests/test_train.py",
    "tests/test_after_training.py",
    "tests/test_bench.py",
    "tests/test_workflow.py",
    "tests/test_migrate.py",
    "tests/test_migrate_apply.py",
    "tests/test_migrate_upgrade.py",
    *(f"tests/fixtures/legacy/{name}" for name in LEGACY_FILES),
}


def expected_files(stack_id: str, package: str, jupyter: str = "no") -> set:
    """The files a bake of that stack holds: EXPECTED_FILES (the default stack's), less the locks the stack has
    none of (a CUDA lock only with a CUDA build, tf-keras only on a Keras 3 TensorFlow stack) and, on a stack
    without TensorFlow, less what the post-gen hook's TENSORFLOW_ONLY leaves out."""
    stack = STACKS["stacks"][stack_id]
    files = {name.replace("PKG", package) for name in EXPECTED_FILES}
    if not stack["cuda"]:
        files.remove("requirements-cuda.lock")
    if stack["backend"] != "tensorflow" or stack["keras"] < 3:
        files.remove("requirements-tf-keras.lock")  # tf.keras is Keras 2: multi_worker needs no tf-keras
    if stack["backend"] != "tensorflow":
        left_out = [path.format(package=package) for path in tensorflow_only()]
        files = {name for name in files if not any(name == path or name.startswith(path + "/") for path in left_out)}
    return files | ({"requirements-jupyter.lock"} if jupyter == "yes" else set())


def test_each_path_the_torch_stack_leaves_out_is_one_the_template_has():
    """TENSORFLOW_ONLY names real files and folders (a renamed file would otherwise stay in a torch project)."""
    default = {name.replace("PKG", "{package}") for name in EXPECTED_FILES}
    for path in tensorflow_only():
        assert any(name == path or name.startswith(path + "/") for name in default), path


@pytest.mark.parametrize("stack_id", [stack_id for stack_id in STACKS["stacks"] if is_torch(stack_id)])
def test_a_torch_bake_has_exactly_its_files_and_nothing_that_needs_tensorflow(tmp_path, stack_id):
    project = bake(tmp_path, tensorflow_stack=stack_id)
    assert files_of(project) == expected_files(stack_id, DEFAULT_PACKAGE)


# (project_name, expected slug, expected package); the slug is python-slugify's transliteration.
UNUSUAL_NAMES = [
    ("Keras Metal Project", "keras-metal-project", "keras_metal_project"),
    ("Ünïcödé Prøject", "unicode-project", "unicode_project"),
    ("Café Über Straße", "cafe-uber-strasse", "cafe_uber_strasse"),
    ("2fast 2furious", "2fast-2furious", "pkg_2fast_2furious"),
    ("  My   Project!!  ", "my-project", "my_project"),
    ('O\'Brien "quoted" \\ back', "o-brien-quoted-back", "o_brien_quoted_back"),
    ("日本語 project", "ri-ben-yu-project", "ri_ben_yu_project"),
]


@pytest.fixture(scope="module")
def default_project(tmp_path_factory):
    return bake(tmp_path_factory.mktemp("default"))


def test_default_bake_has_exactly_the_expected_files(default_project):
    assert default_project.name == "keras-metal-project"
    assert files_of(default_project) == {name.replace("PKG", DEFAULT_PACKAGE) for name in EXPECTED_FILES}


@pytest.mark.parametrize(("project_name", "slug", "package"), UNUSUAL_NAMES)
def test_unusual_names_give_a_sensible_slug_and_identifier(tmp_path, project_name, slug, package):
    project = bake(tmp_path, project_name=project_name)
    assert project.name == slug
    assert (project / "src" / package / "train.py").exists()
    assert package.isascii() and package.isidentifier()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == package
    assert project_name.strip() in markdown_unescaped((project / "README.md").read_text(encoding="utf-8"))


def test_hostile_text_survives_as_text(tmp_path):
    """Quotes, backslashes and Python/TOML/Jinja-looking text in free-text answers stay data."""
    description = 'He said "hi" \\ it\'s \'\'\' """ {x} ${y} [z] # not a comment'
    author = 'Zoë "Z" O\'Neil \\'
    project = bake(
        tmp_path,
        project_name="x'''); import os; os.system('touch PWNED'); ('''",
        description=description,
        author_name=author,
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == description
    assert pyproject["project"]["authors"] == [{"name": author}]
    assert not list(tmp_path.rglob("PWNED")) and not (project / "PWNED").exists()


@pytest.mark.parametrize(("project_name", "slug", "package"), UNUSUAL_NAMES[:4])
def test_generated_files_are_valid_and_fully_rendered(tmp_path, project_name, slug, package):
    project = bake(tmp_path, project_name=project_name)
    for path in project.rglob("*"):
        if not path.is_file() or path.is_relative_to(project / "tests" / "fixtures") or path.suffix == ".gz":
            continue  # the legacy fixtures are old code on purpose (Python 2, Latin-1): checked below; data
        assert_rendered_and_parsing(path.suffix, path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("stack_id", list(STACKS["stacks"]))
def test_pyproject_pins_the_stack_per_platform(tmp_path, stack_id):
    stack = STACKS["stacks"][stack_id]
    project = bake(tmp_path, tensorflow_stack=stack_id, python_version=stack["python"][-1])
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    dependencies = pyproject["project"]["dependencies"]
    expected = []
    for platform, requirements in stack["requirements"].items():
        marker = STACKS["platforms"][platform]["marker"]
        for requirement in requirements:
            pin, _, extra_marker = requirement.partition(";")
            expected.append(f"{pin.strip()}; {marker}" + (f" and {extra_marker.strip()}" if extra_marker else ""))
    stack_pins = [dep for dep in dependencies if dep.startswith(("tensorflow", "keras", "torch"))]
    assert stack_pins == expected
    if is_torch(stack_id):  # nothing that brings TensorFlow in (TensorBoard's callback is TensorFlow's)
        assert not [dep for dep in dependencies if dep.startswith(("tensorflow", "tensorboard", "tf-keras", "tf2onnx"))]
    assert set(stack["common"]) <= set(dependencies)
    assert any(dep.startswith("omegaconf") and "<2.4" in dep for dep in dependencies)
    assert any(dep.startswith("matplotlib") for dep in dependencies)  # every stack's runs draw their PNGs
    last = stack["python"][-1].split(".")
    assert pyproject["project"]["requires-python"] == f">={stack['python'][0]},<{last[0]}.{int(last[1]) + 1}"
    # no cuda extra: it installed tensorflow[and-cuda] over tensorflow-cpu (their files overlap);
    # bootstrap.py --accelerator cuda installs requirements-cuda.lock instead
    # and the export tools: resolved into requirements-export.lock, installed only by make export-tools
    assert set(pyproject["project"]["optional-dependencies"]) == {"dev", "export"}
    export_tools = {dep.split(">")[0].split(";")[0] for dep in pyproject["project"]["optional-dependencies"]["export"]}
    # TensorFlow's exporters convert through tf2onnx; Keras on PyTorch exports ONNX with torch.onnx (onnxscript)
    converter = "onnxscript" if is_torch(stack_id) else "tf2onnx"
    assert {converter, "onnxruntime", "coremltools"} <= export_tools
    assert (project / "requirements-export.lock").read_text(encoding="utf-8") == (
        TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{stack_id}.export.txt"
    ).read_text(encoding="utf-8")
    cuda_lock = TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{stack_id}.cuda.txt"
    # a TensorFlow stack's CUDA build is a lock of its own; PyPI's torch for Linux carries CUDA in the base lock
    assert cuda_lock.exists() == bool(stack["cuda"]) == (not is_torch(stack_id))
    if cuda_lock.exists():
        assert (project / "requirements-cuda.lock").read_text(encoding="utf-8") == cuda_lock.read_text(encoding="utf-8")
    else:
        assert not (project / "requirements-cuda.lock").exists()
    assert pyproject["tool"]["uv"]["environments"] == [STACKS["platforms"][p]["marker"] for p in stack["requirements"]]
    assert pyproject["tool"]["uv"]["compile-bytecode"] is True  # a user's own `uv pip install` / `uv sync` too
    lock = (project / "requirements.lock").read_text(encoding="utf-8")
    assert lock == (TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{stack_id}.txt").read_text(
        encoding="utf-8"
    )
    # Keras 3 stacks: tf-keras for distribute=multi_worker, installed by bootstrap.py with --no-deps
    tf_keras_lock = TEMPLATE / "{{cookiecutter.project_slug}}" / "locks" / f"{stack_id}.tf-keras.txt"
    on_keras_3_tensorflow = stack["keras"] >= 3 and not is_torch(stack_id)
    assert (project / "requirements-tf-keras.lock").exists() == on_keras_3_tensorflow == tf_keras_lock.exists()


def test_the_project_carries_the_stack_table_and_the_answers(tmp_path):
    project = bake(tmp_path, python_version="3.12", project_name='Zoë "Q" <Lab>')
    data = json.loads((project / "src" / "zoe_q_lab" / "runtime" / "stack.json").read_text(encoding="utf-8"))
    assert data["chosen"] == "tensorflow-macos-2.16"
    assert data["python_version"] == "3.12"
    assert data["table"] == STACKS
    # what the migration's regenerate command needs to make the same project on another stack
    assert data["generated_with"]["template"] == str(TEMPLATE)
    assert data["generated_with"]["answers"]["project_name"] == 'Zoë "Q" <Lab>'
    assert data["generated_with"]["answers"]["package_name"] == "zoe_q_lab"
    # the options too, so that the migration's regenerate command keeps them
    assert {key: data["generated_with"]["answers"][key] for key in ("license", "jupyter", "git_init")} == {
        "license": "MIT",
        "jupyter": "no",
        "git_init": "no",
    }


def test_the_legacy_fixtures_are_copied_byte_for_byte(default_project):
    source = TEMPLATE / "{{cookiecutter.project_slug}}" / "tests" / "fixtures" / "legacy"
    for name in LEGACY_FILES:
        copied = default_project / "tests" / "fixtures" / "legacy" / name
        assert copied.read_bytes() == (source / name).read_bytes(), name


def test_package_name_can_be_overridden(tmp_path):
    project = bake(tmp_path, project_name="Some Project", package_name="trainer_app")
    assert project.name == "some-project"
    assert (project / "src" / "trainer_app" / "train.py").exists()
    assert "python -m trainer_app.train" in (project / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("stack_id", ["tensorflow-macos-2.16", "keras-torch"])
def test_make_help_lists_every_target_and_a_torch_project_has_none_that_needs_tensorflow(tmp_path, stack_id):
    project = bake(tmp_path, tensorflow_stack=stack_id, jupyter="yes")
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z][a-z-]*):.*## ", makefile, flags=re.M)
    listed = subprocess.run(["make", "help"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert [line.split()[1] for line in listed.splitlines()] == targets  # export-tools and test-slow too
    tensorflow_targets = {"migrate", "tensorboard"}  # the migration and TensorBoard are TensorFlow's
    assert (tensorflow_targets <= set(targets)) == (not is_torch(stack_id))
    assert tensorflow_targets.isdisjoint(targets) == is_torch(stack_id)
