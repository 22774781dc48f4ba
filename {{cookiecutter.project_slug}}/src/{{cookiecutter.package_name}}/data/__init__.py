"""Data loaders, one module per entry of conf/data/: data=NAME calls the `_target_` of conf/data/NAME.yaml
with that file's other keys and the run's `seed`; it returns the Prepared data (runtime/datasets.py).
Add your own: a module here and a YAML there (see "Your own data" in README.md)."""
