"""Tags that appeared after training, suggested without a retrain: the questions labelled
since the serving model's cutoff form a neighbour index that grows by one day's partition at a
time, and a new question takes votes for the tags the model does not know from its nearest
such questions (cosine, votes weighted by similarity^power, as ``knn_votes`` does, from the
same exact-or-graph index)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from so_assets.models.core.nearest import NeighbourIndex

K = 25
POWER = 4.0
TOP = 3  # new tags suggested per question
THRESHOLD = 0.3
"""A new tag's vote share above which it is flagged as chosen."""


def new_tag_votes(queries: np.ndarray, index: np.ndarray, index_tags: Sequence[Sequence[str]],
                  known: set[str], k: int = K, power: float = POWER, top: int = TOP
                  ) -> list[list[tuple[str, float]]]:
    """For each unit query row, up to ``top`` (tag, vote share) of tags outside ``known``
    carried by its nearest index rows; empty lists when the index has no such tag."""
    out: list[list[tuple[str, float]]] = [[] for _ in range(len(queries))]
    carrying = [i for i, tags in enumerate(index_tags) if set(tags) - known]
    if not carrying or not len(queries):
        return out
    similarity, nearest = NeighbourIndex(index).search(queries, k)
    for row in range(len(queries)):
        weights = np.clip(similarity[row], 0, None) ** power
        total = float(weights.sum()) or 1.0
        votes: dict[str, float] = {}
        for weight, neighbour in zip(weights, nearest[row], strict=True):
            for tag in set(index_tags[neighbour]) - known:
                votes[tag] = votes.get(tag, 0.0) + float(weight) / total
        out[row] = sorted(votes.items(), key=lambda kv: -kv[1])[:top]
    return out
