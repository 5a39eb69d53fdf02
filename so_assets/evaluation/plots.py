"""Matplotlib helpers: headless figures saved as PNG and embedded in markdown."""

from __future__ import annotations

import base64
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


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
    """Write ``fig`` to ``path`` as PNG and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def inline_markdown_image(path: Path, title: str) -> str:
    """Markdown that embeds the PNG itself (how Dagster's UI shows plots in metadata)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"![{title}](data:image/png;base64,{data})"
