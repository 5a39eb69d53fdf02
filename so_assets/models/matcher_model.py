"""The dual-encoder matcher as a model: no training, cosine to cluster and tag vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from so_assets.models.base import Inputs, Predictor, TrainingData
from so_assets.tagtree.matcher import DualEncoderMatcher


class DualEncoderModel(Predictor):
    """Scores are cosine similarities of the question (title + body) to each cluster mean and
    to each kept tag's vector; only the decision thresholds are tuned (on validation)."""

    family = "dual_encoder"
    predicts_tags = True

    def fit(self, data: TrainingData) -> None:
        self.cluster_means = data.cluster_means.astype(np.float32)
        self.tag_vectors = data.tag_vectors.astype(np.float32)

    def cluster_scores(self, inputs: Inputs) -> np.ndarray:
        matcher = DualEncoderMatcher(self.cluster_means, self.labels.cluster_names)
        return matcher.scores(inputs.title_vectors, inputs.body_vectors)

    def tag_scores(self, inputs: Inputs) -> np.ndarray:
        return DualEncoderMatcher(self.tag_vectors, self.labels.tags).scores(
            inputs.title_vectors, inputs.body_vectors)

    def save_state(self, directory: Path) -> None:
        np.save(directory / "cluster_means.npy", self.cluster_means)
        np.save(directory / "tag_vectors.npy", self.tag_vectors)

    def load_state(self, directory: Path) -> None:
        self.cluster_means = np.load(directory / "cluster_means.npy")
        self.tag_vectors = np.load(directory / "tag_vectors.npy")
