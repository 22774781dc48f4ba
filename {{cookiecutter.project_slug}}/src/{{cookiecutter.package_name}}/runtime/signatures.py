"""Known failure texts of a TensorFlow / tensorflow-metal environment, and what cures each.

The doctor matches them against an import error or a run's output; plain data and one function, so the
tests check every signature without TensorFlow.
"""

from __future__ import annotations

REBOOTSTRAP = "python3 bootstrap.py"

NUMPY_2 = "numpy 2 is installed, but this TensorFlow was built against numpy 1"
XLA_ON_METAL = "XLA (jit_compile) was requested on the Metal GPU, which has no XLA backend"
XLA_CURE = "leave trainer.jit_compile at auto (the training turns it off on Metal) and unset TF_XLA_FLAGS"

# Known failure texts -> (cause, cure). Matched case-insensitively against an error or its output.
SIGNATURES = [
    (
        (
            "compiled using numpy 1.x cannot be run in",
            "_array_api not found",
            "numpy.core.multiarray failed to import",
            "numpy.core.umath failed to import",
        ),
        NUMPY_2,
        f"reinstall the locked numpy: {REBOOTSTRAP} (or pip install 'numpy<2')",
    ),
    (
        ("library not loaded", "symbol not found", "libmetal_plugin"),
        "tensorflow-metal cannot load into this TensorFlow (the pair does not match; TF >= 2.20 never loads it)",
        f"restore the pinned pair: {REBOOTSTRAP}; or pip uninstall tensorflow-metal to train on the CPU",
    ),
    (
        ("could not find compiler for platform metal",),
        XLA_ON_METAL,
        XLA_CURE,
    ),
    (
        ("no module named 'pkg_resources'",),
        "TensorBoard before 2.20 imports pkg_resources, which setuptools 82 and newer no longer ship",
        f"reinstall the locked setuptools (<82): {REBOOTSTRAP} (or pip install 'setuptools<82')",
    ),
    (
        ("illegal instruction", "avx"),
        "an x86_64 TensorFlow under Rosetta hit an AVX instruction Rosetta cannot run",
        f"use a native arm64 Python and rebuild .venv: {REBOOTSTRAP}",
    ),
]


def diagnose(text: str) -> tuple | None:
    """(cause, cure) for a known failure signature in the text, else None."""
    lowered = text.lower()
    for needles, cause, cure in SIGNATURES:
        if any(needle in lowered for needle in needles):
            return cause, cure
    return None
