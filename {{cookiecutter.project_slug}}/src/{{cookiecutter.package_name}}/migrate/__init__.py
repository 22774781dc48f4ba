"""Migrate a legacy TensorFlow project to this template's stacks.

    python -m {{ cookiecutter.package_name }}.migrate PATH [--out DIR] [--json] [--apply OUTTREE]

The modules, in the order an analysis uses them (analysis.py runs them; __main__.py is the command):
    tree          walk PATH and read the Python sources (.py files; a notebook's code cells as one program)
    codes         the finding codes: what each one means for each Keras major, and the fix
    idioms        the legacy idioms known by name (TF1 APIs, Keras 2 spellings, GPU and XLA settings)
    findings      code findings from the syntax tree (ast)
    api           which names each stack's TensorFlow and Keras have: the snapshot (apiwalk.py makes it)
    removed       names a stack lacks (API601-603), with the known replacement
    dependencies  read requirements*.txt, environment.yml, pyproject.toml, setup.cfg, setup.py, Pipfile
    packages      judge each dependency against a stack: keep, replace, drop or flag
    recommend     the stack to use, the suggested requirement lines, the regenerate command
    resolve       check that the suggested requirements resolve for macOS arm64 (uv), relaxing pins
    apply         --apply: a migrated copy (tf_upgrade_v2 via tfupgrade.py, then the LibCST fixes in codemods)
    report        MIGRATION.md, the JSON object and the summary
PATH is only ever read.
"""
