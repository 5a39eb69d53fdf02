"""Matplotlib helpers: headless figures saved as PNG and embedded in markdown."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

# Labels are user text (tags such as "$^$", titles): drawn as written, never as mathtext.
matplotlib.rcParams["text.parse_math"] = False


def new_figure(width: float = 7.0, height: float = 4.0) -> tuple[Figure, plt.Axes]:
    """A figure with one axes, for one plot."""
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def new_figure_row(n_axes: int, width: float = 9.0, height: float = 4.0
                   ) -> tuple[Figure, list[plt.Axes]]:
    """A figure with ``n_axes`` axes side by side."""
    fig, axes = plt.subplots(1, n_axes, figsize=(width, height), dpi=100)
    return fig, list(np.atleast_1d(axes))


def save_png(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` as PNG and close it (closed even when saving fails)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def training_curve(history: list[dict], name: str, metric: str, path: Path) -> Path:
    """Train loss and the validation figure per epoch, the best epoch marked."""
    fig, ax = new_figure()
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], color="#3b75af", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss")
    twin = ax.twinx()
    twin.plot(epochs, [h["validation"] for h in history], color="#ef8636", label=metric)
    twin.set_ylabel(metric)
    best = int(np.argmax([h["validation"] for h in history]))
    twin.axvline(epochs[best], color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"{name}: training curve (best epoch {epochs[best]})")
    fig.legend(loc="lower center", ncol=2, fontsize=8)
    return save_png(fig, path)
