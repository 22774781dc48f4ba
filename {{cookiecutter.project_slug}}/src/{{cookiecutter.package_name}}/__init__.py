"""Keras training with Hydra configs and asserted device placement (Metal on Apple Silicon)."""
