"""k-nearest-neighbour voting: a question takes the tags of the training questions closest to
it (cosine of the joined title and body vectors), each vote weighted by similarity^power."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.models.core.base import Scores, TagModel, Target, TrainResult
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.params import Params, param

SIMILARITY_CELLS = 2**24
"""Query x training similarities held at a time (with their negation and int64 ranking about
16 bytes each: 256 MB), so 1,024 queries against 80,000 training questions no longer take
1.3 GB at once."""


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

        self.vectors = question_vectors(data.train)
        self.clusters = data.train.clusters.astype(np.float32)
        # [train, tag labels] CSR: a question carries a few of thousands of tag labels
        self.tags = sparse.csr_matrix(data.train.tags, dtype=np.float32)
        return TrainResult()

    def predict_scores(self, inputs: Inputs) -> Scores:
        from scipy import sparse

        k = min(self.params.k, len(self.vectors))
        power = self.params.power
        queries = question_vectors(inputs)
        clusters = np.zeros((len(inputs), self.clusters.shape[1]), np.float32)
        tags = np.zeros((len(inputs), self.tags.shape[1]), np.float32)
        chunk = max(1, SIMILARITY_CELLS // max(len(self.vectors), 1))
        for lo in range(0, len(inputs), chunk):
            similarity = queries[lo: lo + chunk] @ self.vectors.T
            nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
            weights = np.take_along_axis(similarity, nearest, 1).clip(0) ** power
            weights /= np.maximum(weights.sum(1, keepdims=True), 1e-9)
            clusters[lo: lo + chunk] = np.einsum("nk,nkl->nl", weights, self.clusters[nearest])
            votes = sparse.csr_matrix(
                (weights.ravel(), nearest.ravel(), np.arange(0, weights.size + 1, k)),
                shape=(len(weights), len(self.vectors)))
            tags[lo: lo + chunk] = (votes @ self.tags).toarray()
        return Scores(clusters=clusters, tags=tags)

    def save_state(self, directory: Path) -> None:
        np.savez_compressed(directory / "neighbours.npz", vectors=self.vectors,
                            clusters=self.clusters.astype(bool), tag_indptr=self.tags.indptr,
                            tag_indices=self.tags.indices,
                            tag_shape=np.array(self.tags.shape))

    def load_state(self, directory: Path) -> None:
        from scipy import sparse

        saved = np.load(directory / "neighbours.npz")
        self.vectors = saved["vectors"]
        self.clusters = saved["clusters"].astype(np.float32)
        if "tags" in saved:  # saved dense before the tags went sparse
            self.tags = sparse.csr_matrix(saved["tags"], dtype=np.float32)
        else:
            indices = saved["tag_indices"]
            self.tags = sparse.csr_matrix(
                (np.ones(len(indices), np.float32), indices, saved["tag_indptr"]),
                shape=tuple(saved["tag_shape"]))
