"""The naive tag model every tag model has to beat: the most frequent clusters."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from so_assets.models.core.base import Scores, TagModel, TrainResult
from so_assets.models.core.data import Inputs, SplitData, TrainingData


class MostFrequentBaseline(TagModel):
    """Scores = training frequency; predicts the m most frequent clusters, m = the mean label
    count of a training question (rounded, at least 1)."""

    family = "most_frequent_baseline"

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        self.frequency = data.train.clusters.mean(0).astype(np.float32)
        m = max(1, round(float(data.train.clusters.sum(1).mean())))
        self.chosen = np.zeros(self.labels.n_clusters, dtype=bool)
        self.chosen[np.argsort(-self.frequency)[:m]] = True
        self.threshold_rule = f"the {m} most frequent training clusters"
        return TrainResult()

    def calibrate(self, validation: SplitData, scores: Scores | None = None) -> None:
        """Nothing to tune: the decision is the fixed most-frequent set."""

    def predict_scores(self, inputs: Inputs) -> Scores:
        return Scores(clusters=np.tile(self.frequency, (len(inputs), 1)))

    def decide(self, scores: Scores) -> tuple[np.ndarray, None]:
        return np.tile(self.chosen, (len(scores.clusters), 1)), None

    def save_state(self, directory: Path) -> None:
        np.save(directory / "frequency.npy", self.frequency)
        np.save(directory / "chosen.npy", self.chosen)

    def load_state(self, directory: Path) -> None:
        self.frequency = np.load(directory / "frequency.npy")
        self.chosen = np.load(directory / "chosen.npy")
