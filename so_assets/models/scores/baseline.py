"""The naive score model every score model has to beat: the training mean."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from so_assets.models.core.base import ScoreModel, Scores, TrainResult
from so_assets.models.core.data import Inputs, SplitData, TrainingData


class MeanBaseline(ScoreModel):
    """Predicts the training mean of the target for every question."""

    family = "mean_baseline"

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        self.mean = float(self.to_target(self.scored(data.train).scores).mean())
        return TrainResult()

    def calibrate(self, validation: SplitData) -> None:
        """Nothing to tune: the baseline is the training mean, never moved by validation."""

    def predict_scores(self, inputs: Inputs) -> Scores:
        return Scores(score=np.full(len(inputs), self.from_target(np.array(self.mean))))

    def save_state(self, directory: Path) -> None:
        (directory / "mean.txt").write_text(repr(self.mean))

    def load_state(self, directory: Path) -> None:
        self.mean = float((directory / "mean.txt").read_text())
