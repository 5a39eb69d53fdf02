"""The dual-encoder matcher as a model: no training, cosine to cluster and tag vectors."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from so_assets.models.core.base import Need, Scores, TagModel, Target, TrainResult
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.tagtree.matcher import DualEncoderMatcher


class DualEncoderModel(TagModel):
    """Scores are cosine similarities of the question (title + body) to each cluster mean and
    to each kept tag's vector; only the decision thresholds are tuned (on validation)."""

    family = "dual_encoder"
    needs = frozenset({Need.TREE, Need.TAG_VECTORS})
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        self.cluster_means = np.asarray(data.cluster_means, dtype=np.float32)
        self.tag_vectors = np.asarray(data.tag_vectors, dtype=np.float32)
        return TrainResult()

    def predict_scores(self, inputs: Inputs) -> Scores:
        clusters = DualEncoderMatcher(self.cluster_means, self.labels.cluster_names)
        tags = DualEncoderMatcher(self.tag_vectors, self.labels.tags)
        return Scores(clusters=clusters.scores(inputs.title_vectors, inputs.body_vectors),
                      tags=tags.scores(inputs.title_vectors, inputs.body_vectors))

    def save_state(self, directory: Path) -> None:
        np.save(directory / "cluster_means.npy", self.cluster_means)
        np.save(directory / "tag_vectors.npy", self.tag_vectors)

    def load_state(self, directory: Path) -> None:
        self.cluster_means = np.load(directory / "cluster_means.npy")
        self.tag_vectors = np.load(directory / "tag_vectors.npy")
