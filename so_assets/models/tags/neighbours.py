"""k-nearest-neighbour voting: a question takes the tags of the training questions closest to
it (cosine of the joined title and body vectors), each vote weighted by similarity^power.
Neighbours are exact up to ``nearest.EXACT_UP_TO`` training questions, from an HNSW graph past
it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.models.core.base import Scores, TagModel, Target, TrainResult
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.models.core.nearest import NeighbourIndex
from so_assets.params import Params, param

QUERY_BLOCK = 4096
"""Queries voted at a time: their [block, tag labels] votes are made sparse first."""
GRAPH_FILE = "neighbours.faiss"


def question_vectors(inputs: Inputs) -> np.ndarray:
    """Unit [title, body] vectors (each half normalised first, so both weigh the same)."""
    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

    return unit(np.hstack([unit(inputs.title_vectors), unit(inputs.body_vectors)])).astype(
        np.float32)


@dataclass(frozen=True)
class KnnVotesParams(Params):
    k: int = param(25, "Nearest training questions that vote.", ge=1)
    power: float = param(4.0, "Votes weigh similarity to this power: close neighbours count "
                              "far more.", ge=0)


class KnnVotes(TagModel):
    """The tags of the ``k`` nearest training questions, votes weighted by similarity^power."""

    family = "knn_votes"
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    shares_state = True
    params_class = KnnVotesParams
    params: KnnVotesParams

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from scipy import sparse

        self.index = NeighbourIndex(question_vectors(data.train), log=log)
        self.clusters = data.train.clusters.astype(np.float32)
        # [train, tag labels] CSR: a question carries a few of thousands of tag labels
        self.tags = sparse.csr_matrix(data.train.tags, dtype=np.float32)
        return TrainResult()

    def predict_scores(self, inputs: Inputs) -> Scores:
        from scipy import sparse

        k = min(self.params.k, len(self.index))
        power = self.params.power
        queries = question_vectors(inputs)
        clusters = np.zeros((len(inputs), self.clusters.shape[1]), np.float32)
        tags = np.zeros((len(inputs), self.tags.shape[1]), np.float32)
        for lo in range(0, len(inputs), QUERY_BLOCK):
            similarity, nearest = self.index.search(queries[lo: lo + QUERY_BLOCK], k)
            weights = similarity.clip(0) ** power
            weights /= np.maximum(weights.sum(1, keepdims=True), 1e-9)
            clusters[lo: lo + QUERY_BLOCK] = np.einsum("nk,nkl->nl", weights,
                                                       self.clusters[nearest])
            votes = sparse.csr_matrix(
                (weights.ravel(), nearest.ravel(), np.arange(0, weights.size + 1, k)),
                shape=(len(weights), len(self.index)))
            tags[lo: lo + QUERY_BLOCK] = (votes @ self.tags).toarray()
        return Scores(clusters=clusters, tags=tags)

    def save_state(self, directory: Path) -> None:
        np.savez_compressed(directory / "neighbours.npz", vectors=self.index.vectors,
                            clusters=self.clusters.astype(bool), tag_indptr=self.tags.indptr,
                            tag_indices=self.tags.indices,
                            tag_shape=np.array(self.tags.shape))
        self.index.save_graph(directory / GRAPH_FILE)

    def load_state(self, directory: Path) -> None:
        from scipy import sparse

        saved = np.load(directory / "neighbours.npz")
        self.index = NeighbourIndex.load(saved["vectors"], directory / GRAPH_FILE)
        self.clusters = saved["clusters"].astype(np.float32)
        if "tags" in saved:  # saved dense before the tags went sparse
            self.tags = sparse.csr_matrix(saved["tags"], dtype=np.float32)
        else:
            indices = saved["tag_indices"]
            self.tags = sparse.csr_matrix(
                (np.ones(len(indices), np.float32), indices, saved["tag_indptr"]),
                shape=tuple(saved["tag_shape"]))
