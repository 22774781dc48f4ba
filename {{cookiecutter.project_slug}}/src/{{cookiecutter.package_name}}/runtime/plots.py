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


def training_curves(history: dict, path: Path) -> dict:
    """One panel per metric (the loss first), training and validation per epoch; the loss on a log scale when
    its values span more than two decades. Returns each panel's y scale."""
    from matplotlib.ticker import MaxNLocator

    names = [key for key in history if not key.startswith("val_")]
    names.sort(key=lambda name: name != "loss")
    drawn = figure(5 * len(names), 4)
    for axes, name in zip(np.atleast_1d(drawn.subplots(1, len(names))), names, strict=True):
        for key, label in ((name, "training"), (f"val_{name}", "validation")):
            if key in history:
                axes.plot(range(1, len(history[key]) + 1), history[key], marker=".", label=label)
        values = np.asarray(history[name] + history.get(f"val_{name}", []), dtype=np.float64)
        values = values[np.isfinite(values)]
        if name == "loss" and values.size and values.min() > 0 and values.max() / values.min() > 100:
            axes.set_yscale("log")
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(name)
        axes.legend()
    drawn.tight_layout()
    drawn.savefig(path, dpi=100)
    return {name: axes.get_yscale() for name, axes in zip(names, drawn.axes, strict=False)}


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
