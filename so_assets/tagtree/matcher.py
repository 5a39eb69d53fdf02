"""The dual-encoder matcher: clusters ranked by cosine between a question and cluster means."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from so_assets.tagtree.geometry import normalize_rows, question_directions


@dataclass
class DualEncoderMatcher:
    """No training: a question's score for a cluster is cos(question vector, cluster mean).

    The question vector is the normalised mean of its title and body vectors.
    """

    cluster_means: np.ndarray  # [k, d] unit
    cluster_names: list[str]

    @classmethod
    def from_means(cls, names: Sequence[str], means: Sequence[Sequence[float]]
                   ) -> DualEncoderMatcher:
        """A matcher over the depth-1 clusters, e.g. from ``read_cluster_means(store)``."""
        return cls(normalize_rows(np.asarray(means, dtype=np.float32)), list(names))

    def scores(self, title_vectors: np.ndarray, body_vectors: np.ndarray) -> np.ndarray:
        """[n, k] cosine similarities."""
        return question_directions(title_vectors, body_vectors) @ self.cluster_means.T

    def top_k(self, title_vectors: np.ndarray, body_vectors: np.ndarray, k: int = 5
              ) -> np.ndarray:
        """[n, k] cluster indexes, best first."""
        return np.argsort(-self.scores(title_vectors, body_vectors), axis=1)[:, :k]

    def top2_confusion(self, has_tag: Sequence[bool], top2: np.ndarray, cluster: int
                       ) -> np.ndarray:
        """The seed's 2x2 matrix for one tag: rows = question has the tag (no, yes), columns =
        the tag's cluster is among the top-2 clusters (no, yes)."""
        hit = (np.asarray(top2)[:, :2] == cluster).any(axis=1)
        actual = np.asarray(has_tag, dtype=bool)
        return np.array([[np.sum(~actual & ~hit), np.sum(~actual & hit)],
                         [np.sum(actual & ~hit), np.sum(actual & hit)]])
