"""The run's PNGs, drawn with matplotlib's object API on the Agg canvas: no GUI, no pyplot state, and only
the parts a PNG needs are imported."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    made = Figure(figsize=(width, height))
    FigureCanvasAgg(made)
    return made


def confusion_matrix(matrix: np.ndarray, classes: list, title: str, path: Path) -> None:
    """Counts of true (rows) against predicted (columns) classes, each cell written in."""
    size = 2.5 + 0.5 * len(classes)
    drawn = figure(size + 1, size)
    axes = drawn.subplots()
    image = axes.imshow(matrix, cmap="Blues")
    drawn.colorbar(image, ax=axes)
    ticks = range(len(classes))
    axes.set_xticks(ticks, labels=classes, rotation=45, ha="right")
    axes.set_yticks(ticks, labels=classes)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        color = "white" if count > threshold else "black"
        axes.text(column, row, str(int(count)), ha="center", va="center", color=color)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    drawn.tight_layout()
    drawn.savefig(path, dpi=100)


def predicted_against_true(true: np.ndarray, predicted: np.ndarray, title: str, path: Path) -> None:
    """One point per row, and the diagonal where a perfect model's points would lie."""
    drawn = figure(5, 5)
    axes = drawn.subplots()
    axes.scatter(true, predicted, s=10, alpha=0.6)
    low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
    axes.plot([low, high], [low, high], color="grey", linestyle="--", label="predicted = true")
    axes.set_xlabel("true")
    axes.set_ylabel("predicted")
    axes.set_title(title)
    axes.legend()
    drawn.tight_layout()
    drawn.savefig(path, dpi=100)
