"""Models, one module per entry of conf/model/: model=NAME calls the `_target_` of conf/model/NAME.yaml with
`spec=` (the data's DataSpec: input_shape, n_outputs, task, class_names) and that file's other keys; it
returns an uncompiled Keras model. Add your own: a module here and a YAML there (see "Your own model" in
README.md)."""
