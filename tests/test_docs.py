"""The README tells the truth: its test command is what CI runs, and it covers every option and pin."""

from __future__ import annotations

import re
import tomllib

import pytest
from helpers import COOKIECUTTER_JSON, STACKS, TEMPLATE, bake, locked_keras, mac_only_keras_stacks
from test_cookiecutters import minimum_cookiecutter

README = (TEMPLATE / "README.md").read_text(encoding="utf-8")


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", README, flags=re.S)


def test_the_readme_gives_exactly_two_setup_commands_and_ci_runs_the_test_one():
    generate, test = readme_commands()
    assert generate.startswith("uvx cookiecutter ")
    ci_commands = [line for line in (TEMPLATE / ".ci" / "run").read_text().splitlines() if line.startswith("uv run")]
    assert ci_commands == [test]


def test_the_setup_section_says_which_command_makes_a_project_and_which_tests_the_template():
    setup = README.split("## Set-up: the two commands\n")[1].split("\n## ")[0]
    before_first, _, rest = setup.partition("```bash\n")
    between = rest.split("```\n", 1)[1].split("```bash\n")[0]
    assert "The first command **makes a project**" in before_first
    assert "The second command **runs the template's own tests**" in between and "working on the template" in between


def test_the_readme_states_the_minimum_cookiecutter_the_hook_enforces():
    minimum = ".".join(map(str, minimum_cookiecutter()))
    assert f"cookiecutter {minimum} or newer" in README.split("## Options")[0]


def test_every_extra_the_generated_project_names_exists(tmp_path):
    project = bake(tmp_path)
    extras = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    named = {
        (path.name, extra)
        for path in project.rglob("*")
        if path.is_file() and "fixtures" not in path.parts and path.suffix in (".md", ".py", ".yaml", ".toml")
        for extra in re.findall(r"\b(?:the|its) `?([\w-]+)`? extra\b", path.read_text(encoding="utf-8"))
    }
    assert (".pre-commit-config.yaml", "dev") in named  # the pattern finds what it looks for
    assert {(name, extra) for name, extra in named if extra not in extras} == set()


def test_every_variable_is_documented_and_prompted():
    variables = [key for key in COOKIECUTTER_JSON if not key.startswith("_")]
    assert set(COOKIECUTTER_JSON["__prompts__"]) == set(variables)
    for variable in variables:
        assert f"`{variable}`" in README, variable


def test_every_pin_of_every_stack_is_in_the_readme_table():
    for stack_id, stack in STACKS["stacks"].items():
        assert f"`{stack_id}`" in README
        for requirements in stack["requirements"].values():
            for requirement in requirements:
                package, _, version = requirement.partition(";")[0].partition("==")
                assert package in README and version in README, requirement


def test_the_python_version_prompt_names_the_stacks_that_support_each_version():
    choices = COOKIECUTTER_JSON["python_version"]
    assert choices[0] == "3.11"  # the default
    everything = {python for stack in STACKS["stacks"].values() for python in stack["python"]}
    assert set(choices) == everything
    labels = COOKIECUTTER_JSON["__prompts__"]["python_version"]
    for python in choices:
        version, _, named = labels[python].partition(": ")
        supporting = [stack_id for stack_id, stack in STACKS["stacks"].items() if python in stack["python"]]
        assert version == python and named.removesuffix(" only").split(", ") == supporting, labels[python]


def test_the_readmes_say_which_keras_each_platform_gets_and_that_both_are_tested(tmp_path):
    tested = README[README.index("**Both Keras releases are tested here.**") :].split("\n- ")[0]
    assert mac_only_keras_stacks(), "no stack gives Apple Silicon its own Keras: reword the README"
    for stack_id in mac_only_keras_stacks():
        assert f"`{stack_id}`" in tested
        assert f"{locked_keras(stack_id, 'apple_silicon')} against {locked_keras(stack_id, 'linux_x86_64')}" in tested
    assert "tests/test_project.py" in tested and "bisect_mirrored_keras.py" in tested
    for stack_id, stack in STACKS["stacks"].items():
        project = bake(tmp_path / stack_id, tensorflow_stack=stack_id)
        readme = (project / "docs" / "stack.md").read_text(encoding="utf-8")
        section = readme[readme.index("**Keras per platform:**") :]
        for platform, requirements in stack["requirements"].items():
            label = STACKS["platforms"][platform]["label"]
            (line,) = [line for line in section.splitlines() if line.startswith(f"- {label}: ")]
            pins = [f"`{pin}`" for pin in requirements if pin.startswith("keras==")]
            assert line == f"- {label}: " + " or ".join(pins), line
        assert "installed over the Linux lock" in section, stack_id


def test_the_prompt_labels_a_stack_without_tensorflow_plainly():
    """Keras on PyTorch and the Apple GPU through MPS, with its Pythons, its macOS and the Intel Mac it refuses."""
    prompt = COOKIECUTTER_JSON["__prompts__"]["tensorflow_stack"]
    torch_stacks = [stack_id for stack_id, stack in STACKS["stacks"].items() if stack["backend"] == "torch"]
    assert torch_stacks and "Keras on PyTorch with MPS" in prompt["__prompt__"]
    for stack_id in torch_stacks:
        stack, label = STACKS["stacks"][stack_id], prompt[stack_id]
        assert label.startswith("Keras on PyTorch: ") and "the Apple GPU through MPS, no TensorFlow" in label
        assert f"torch {'.'.join(stack['torch'].split('.')[:2])}" in label
        assert f"Python {stack['python'][0]}-{stack['python'][-1]}" in label
        assert f"macOS {stack['macos_min'].removesuffix('.0')}+" in label
        assert ("no Intel Mac" in label) == ("intel_mac" in stack["unsupported"]), label


@pytest.mark.parametrize("stack_id", list(STACKS["stacks"]))
def test_every_link_between_the_generated_docs_reaches_a_file_the_project_has(tmp_path, stack_id):
    """A stack without TensorFlow leaves docs/migration.md out: nothing may link to it there."""
    project = bake(tmp_path, tensorflow_stack=stack_id, python_version=STACKS["stacks"][stack_id]["python"][0])
    pages = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    broken = [
        f"{page.relative_to(project)} -> {target}"
        for page in pages
        for target in re.findall(r"\]\(([^)#\s:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]
    assert broken == []


def test_a_torch_projects_readme_top_and_stack_page_claim_no_tensorflow_and_no_plug_in(tmp_path):
    """The title, what it is, the quick starts and the stack page of a keras-torch project: Keras on PyTorch with
    MPS; no TensorFlow, no Metal plug-in, no CUDA lock (its torch for Linux carries CUDA)."""
    project = bake(tmp_path, tensorflow_stack="keras-torch")
    readme = (project / "README.md").read_text(encoding="utf-8")
    top = readme[: readme.index("## Your own model")]
    assert "Keras runs on PyTorch 2.15.0 here (the `keras-torch` stack; no TensorFlow)" in top
    assert "checks the Apple GPU (MPS) against the CPU" in top and "--accelerator cuda` says so" in top
    for claim in ("tensorflow-metal", "Metal GPU", "Metal tests", "requirements-cuda.lock", "import tensorflow"):
        assert claim not in top, claim
    stack_page = (project / "docs" / "stack.md").read_text(encoding="utf-8")
    assert stack_page.startswith("# The stack: Keras on PyTorch: Keras 3.15 + torch 2.15")
    assert "macOS 14.0 or newer for MPS" in stack_page and "Keras 3 on PyTorch 2.15.0" in stack_page
    for claim in ("tensorflow-metal declares", "Only the Metal plug-in", "or newer for Metal"):
        assert claim not in stack_page, claim
    assert ".migrate" not in readme and "docs/migration.md" not in readme  # TENSORFLOW_ONLY: not in the project
    assert "make tensorboard" not in readme  # no such target: TensorBoard is not in the stack


def test_the_migration_pages_say_when_moving_to_keras_torch_makes_sense(tmp_path):
    """Never by itself, and when: backend-neutral Keras 3 code; what it gives and what it loses."""
    page = (bake(tmp_path) / "docs" / "migration.md").read_text(encoding="utf-8")
    later = page[page.index("## Later: Keras on PyTorch") :]
    section = README[README.index("## Migrating a legacy project") :].split("\n## ")[0]
    for text in (later, section):
        assert "backend-neutral Keras 3" in text and "no `tf.*` call left" in text
        assert "maintained Apple GPU path" in text and "TensorBoard's callback" in text
        assert "`tf.distribute`" in text and "SavedModel and TFLite" in text
    assert "(`keras-torch`) is never recommended" in page
    assert "[Later: Keras on PyTorch](#later-keras-on-pytorch)" in page
    assert "**Never to `keras-torch` by itself.**" in section


def apple_gpu_paths_table(text: str) -> list:
    """The rows of the "three Apple GPU paths" table that follows its heading."""
    lines = text.split("The three Apple GPU paths\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


@pytest.mark.parametrize("stack_id", ["tensorflow-macos-2.16", "keras-torch"])
def test_the_generated_stack_page_compares_the_three_apple_gpu_paths_as_the_readme_does(tmp_path, stack_id):
    project = bake(tmp_path, tensorflow_stack=stack_id)
    page = (project / "docs" / "stack.md").read_text(encoding="utf-8")
    table = apple_gpu_paths_table(README)
    assert len(table) > 10 and apple_gpu_paths_table(page) == table
    intro = page.split("## The three Apple GPU paths\n", 1)[1].split("|")[0]
    assert ("PyTorch's MPS" if stack_id == "keras-torch" else "Apple's `tensorflow-metal`") in intro
