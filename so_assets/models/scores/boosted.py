"""XGBoost score regressors on the vectors and the posting-time features: squared error, or
quantile regression (10 / 50 / 90 %) that also gives an interval."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.models.core.base import ScoreModel, ScoreParams, Scores, TrainResult
from so_assets.models.core.data import Inputs, SplitData, TrainingData
from so_assets.models.scores.features import tabular_features, tabular_names
from so_assets.models.training.progress import cuda_available, xgboost_progress
from so_assets.params import param

QUANTILES = (0.1, 0.5, 0.9)
COVERAGE = QUANTILES[2] - QUANTILES[0]
"""What the interval must hold: 80 % of the scores."""


@dataclass(frozen=True)
class XGBoostRegressorParams(ScoreParams):
    quantiles: bool = param(False, "Predict the 10, 50 and 90 % quantiles of the target (the "
                                   "median is the score, the others its interval).")
    n_estimators: int = param(400, "Boosting rounds at most (early stopping on validation "
                                   "after 30 without gain).", ge=1)
    max_depth: int = param(4, "Depth of every tree.", ge=1)
    learning_rate: float = param(0.05, "Shrinkage of every tree.", gt=0, le=1)
    min_child_weight: float = param(5.0, "Least hessian weight in a leaf.", ge=0)
    n_jobs: int = param(0, "Threads (0: every core).", ge=0)
    seed: int = param(0, "Seed of the row and column subsampling.", ge=0)


class XGBoostRegressor(ScoreModel):
    """``hist`` trees on [title vector, body vector, posting-time features], CUDA when
    present, early stopping on validation."""

    family = "xgboost_regressor"
    engine = "xgboost"
    params_class = XGBoostRegressorParams
    params: XGBoostRegressorParams
    interval_margin: float = 0.0
    """Target-scale widening of the quantile interval, fitted on validation (conformal)."""

    @property
    def quantiles(self) -> bool:
        return self.params.quantiles

    def _x(self, inputs: Inputs) -> np.ndarray:
        return np.hstack([inputs.title_vectors, inputs.body_vectors,
                          tabular_features(inputs, self.labels.n_clusters)])

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        import xgboost as xgb

        p = self.params
        data = self.scored_data(data)
        objective = {"objective": "reg:quantileerror", "quantile_alpha": np.array(QUANTILES)} \
            if self.quantiles else {"objective": "reg:squarederror"}
        self.model = xgb.XGBRegressor(
            n_estimators=p.n_estimators, max_depth=p.max_depth,
            learning_rate=p.learning_rate, subsample=0.8, colsample_bytree=0.3,
            min_child_weight=p.min_child_weight, max_bin=64, tree_method="hist",
            device="cuda" if cuda_available() else "cpu", early_stopping_rounds=30,
            n_jobs=p.n_jobs, random_state=p.seed, **objective,
            callbacks=[xgboost_progress(log, "xgboost score", p.n_estimators)])
        self.model.fit(self._x(data.train), self.to_target(data.train.scores),
                       eval_set=[(self._x(data.validation),
                                  self.to_target(data.validation.scores))], verbose=False)
        self.importance = self._importance(data.train.title_vectors.shape[1])
        return TrainResult()

    def _importance(self, dim: int) -> dict[str, float]:
        """Total gain per feature group: the title vector, the body vector, each feature."""
        names = (["title vector"] * dim + ["body vector"] * dim
                 + tabular_names(self.labels.n_clusters))
        gain = self.model.get_booster().get_score(importance_type="total_gain")
        grouped: dict[str, float] = {}
        for key, value in gain.items():
            name = names[int(key[1:])]
            name = "tag clusters" if name.startswith("cluster_") else name
            name = "weekday" if name.startswith("weekday_") else name
            grouped[name] = grouped.get(name, 0.0) + float(value)
        total = sum(grouped.values()) or 1.0
        return {k: v / total for k, v in sorted(grouped.items(), key=lambda kv: -kv[1])}

    def feature_importance(self) -> dict[str, float]:
        return self.importance

    def predict_scores(self, inputs: Inputs) -> Scores:
        if not len(inputs):
            return Scores(score=np.zeros(0))
        predicted = self.model.predict(self._x(inputs))
        if not self.quantiles:
            return Scores(score=self.from_target(predicted))
        low, mid, high = (self.from_target(v, recalibrate=False)
                          for v in self._target_interval(predicted))
        return Scores(score=mid, score_low=low, score_high=high)

    def _target_interval(self, predicted: np.ndarray) -> tuple[np.ndarray, ...]:
        """(low, median, high) on the target scale: quantiles ordered, the median moved by the
        recalibration with the interval around it, widened by the conformal margin."""
        predicted = np.sort(predicted, axis=1)  # quantile crossing: keep them ordered
        intercept, slope = self.recalibration
        shift = intercept + (slope - 1.0) * predicted[:, 1]
        low, mid, high = (predicted[:, i] + shift for i in range(3))
        return low - self.interval_margin, mid, high + self.interval_margin

    def calibrate(self, validation: SplitData) -> None:
        """The recalibration of every score model, then (quantiles) split-conformal: the
        interval is widened (or narrowed) by the margin that makes it hold ``COVERAGE`` of the
        validation scores (conformalized quantile regression), instead of the quantile
        model's own coverage (71.8 % on a real held-out set)."""
        super().calibrate(validation)
        self.interval_margin = 0.0
        if not self.quantiles:
            return
        split = self.scored(validation)
        low, _, high = self._target_interval(self.model.predict(self._x(split)))
        truth = self.to_target(split.scores)
        errors = np.maximum(low - truth, truth - high)  # > 0: outside, by how much
        rank = min(len(errors), int(np.ceil((len(errors) + 1) * COVERAGE)))
        self.interval_margin = float(np.sort(errors)[rank - 1]) if len(errors) else 0.0

    def saved_meta(self) -> dict:
        return {**super().saved_meta(), "interval_margin": self.interval_margin}

    def restore_meta(self, directory: Path, meta: dict) -> None:
        super().restore_meta(directory, meta)
        self.interval_margin = float(meta.get("interval_margin", 0.0))

    def save_state(self, directory: Path) -> None:
        self.model.save_model(directory / "model.ubj")
        (directory / "importance.json").write_text(json.dumps(self.importance, indent=1))

    def load_state(self, directory: Path) -> None:
        import xgboost as xgb

        self.model = xgb.XGBRegressor()
        self.model.load_model(directory / "model.ubj")
        self.importance = json.loads((directory / "importance.json").read_text())
