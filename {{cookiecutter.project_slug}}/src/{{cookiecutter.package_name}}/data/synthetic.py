"""data=synthetic: the seed's example data, made up on the spot (no file needed)."""

from __future__ import annotations

import numpy as np

from ..runtime.datasets import DataError, DataSpec, Prepared, from_arrays


def load(
    n_samples: int = 1000,
    n_features: int = 10,
    noise: float = 0.1,
    signal: str = "linear",
    validation_split: float = 0.2,
    test_split: float = 0.0,
    *,
    seed: int,
) -> Prepared:
    x, y = make_regression(n_samples, n_features, noise, seed, signal=signal)
    spec = DataSpec("synthetic", (n_features,), "regression")
    return from_arrays(x, y, spec, validation_split, seed, test_split=test_split)


def make_regression(
    n_samples: int, n_features: int, noise: float, seed: int, signal: str = "linear"
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform inputs; y = x @ w + b + noise (signal=linear), or uniform random like the seed's script
    (signal=none). float32, the same for the same seed."""
    rng = np.random.default_rng(seed)
    x = rng.random((n_samples, n_features), dtype=np.float32)
    if signal == "none":
        return x, rng.random((n_samples, 1), dtype=np.float32)
    if signal != "linear":
        raise DataError(f"data.signal={signal} is unknown; choose linear or none.")
    weights = rng.normal(size=(n_features, 1)).astype(np.float32)
    bias = np.float32(rng.normal())
    y = x @ weights + bias + noise * rng.normal(size=(n_samples, 1)).astype(np.float32)
    return x, y.astype(np.float32)
