"""`python -m {{ cookiecutter.package_name }}.conf`: the configuration table of docs/configuration.md, from
the schema (schema.py) and the default config, as
`python -m {{ cookiecutter.package_name }}.train --cfg job` composes it."""

from hydra import compose, initialize_config_module

from . import schema

with initialize_config_module(config_module=__package__, version_base="1.3"):
    print(schema.table(compose(config_name="train")), end="")
