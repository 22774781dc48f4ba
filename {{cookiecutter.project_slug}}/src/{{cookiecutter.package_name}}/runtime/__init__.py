"""The machinery behind the entry points: device placement and numerics, the stack and this machine,
distribution, data preparation and pipelines, callbacks and artifacts. It never imports the user's
models/ or data/ modules: those are reached through the `_target_` of their config entries."""
