import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from {{ cookiecutter.package_name }}.runtime import backend

CONFIG_MODULE = "{{ cookiecutter.package_name }}.conf"


@pytest.fixture
def compose_config():
    """compose_config("optimizer=sgd", ...) -> the training config, as the CLI would build it."""

    def _compose(*overrides: str):
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            return compose(config_name="train", overrides=list(overrides))

    return _compose


@pytest.fixture(scope="session")
def keras(tf):
    """The Keras the project trains with: tf.keras on a TensorFlow stack (after the tf fixture split the CPU),
    Keras 3 on PyTorch on keras-torch."""
    return backend.keras()


@pytest.fixture(autouse=True)
def fresh_hydra():
    yield
    GlobalHydra.instance().clear()


@pytest.fixture(scope="session")
def tf():
{%- if cookiecutter._stacks.stacks[cookiecutter.tensorflow_stack].backend == "torch" %}
    """None: the keras-torch stack has no TensorFlow, and the tests that take this fixture run Keras on PyTorch."""
    return None
{%- else %}
    """TensorFlow, imported once, with the CPU split into two logical devices before its runtime starts,
    so the numerics check can compare the CPU with a second CPU on any machine. Every test that runs
    TensorFlow takes this fixture, so the split happens first whatever the order of the tests."""
    import tensorflow

    from {{ cookiecutter.package_name }}.runtime.tensorflow_numerics import split_cpu

    assert split_cpu(tensorflow), "TensorFlow started before the CPU could be split in two"
    return tensorflow
{%- endif %}


def pytest_configure(config):
    """A command run in-process (train's main) lets Hydra configure logging, which closes every existing
    handler; absl's (TensorFlow's logging) then closes its stream unless it is sys.stderr at that moment, and
    under capsys it is not: it is pytest's own capture of stderr, and the run ends in "lost sys.stderr". Only
    flushing on close keeps pytest's stream open (absl's handler is re-created by the next run anyway).
    Nothing to patch on the keras-torch stack, where nothing logs through absl (and importing it here would
    only cost time)."""
    if backend.is_torch():
        return
    from absl.logging import PythonHandler

    PythonHandler.close = PythonHandler.flush
