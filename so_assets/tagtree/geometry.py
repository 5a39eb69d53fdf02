"""Unit vectors: the only geometry the tag tree and the matcher need."""

from __future__ import annotations

import numpy as np


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


def question_directions(title_vectors: np.ndarray, body_vectors: np.ndarray) -> np.ndarray:
    """[n, d] unit vectors: a question's title and body directions, averaged."""
    return normalize_rows(normalize_rows(title_vectors) + normalize_rows(body_vectors))
