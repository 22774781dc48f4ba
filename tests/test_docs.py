"""The README tells the truth: its test command is what CI runs, and it covers every option and pin."""

from __future__ import annotations

import re
import tomllib

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
