# Makes conf/ a package so Hydra finds the configs inside the installed project (pkg://). Composing them
# imports it first, which puts the schema (schema.py) into Hydra's ConfigStore, where train.yaml finds it.
from . import schema

schema.register()
