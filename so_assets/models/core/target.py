"""The score target transform: what score models learn instead of the raw score."""

from __future__ import annotations

import numpy as np


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """sign(s) * log1p(|s|): the heavy tail compressed, zero and sign kept."""
    return np.sign(x) * np.log1p(np.abs(x))


def signed_expm1(y: np.ndarray) -> np.ndarray:
    """The inverse of :func:`signed_log1p`."""
    return np.sign(y) * np.expm1(np.abs(y))
