"""Synthetic regression data: the classic (1000, 10) -> (1000, 1) example, with a real signal to learn."""

from __future__ import annotations

import numpy as np


def make_regression(n_samples: int, n_features: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """y = x @ w + b + noise, float32, the same for the same seed."""
    rng = np.random.default_rng(seed)
    x = rng.random((n_samples, n_features), dtype=np.float32)
    weights = rng.normal(size=(n_features, 1)).astype(np.float32)
    bias = np.float32(rng.normal())
    y = x @ weights + bias + noise * rng.normal(size=(n_samples, 1)).astype(np.float32)
    return x, y.astype(np.float32)
