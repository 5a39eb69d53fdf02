"""XGBoost score regressors on the vectors and the posting-time features: squared error, or
quantile regression (10 / 50 / 90 %) that also gives an interval."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from so_assets.models.base import ScoreModel, Scores, TrainResult
from so_assets.models.boosted import cuda_available
from so_assets.models.data import Inputs, TrainingData
from so_assets.models.features import tabular_features, tabular_names
from so_assets.models.progress import xgboost_progress

QUANTILES = (0.1, 0.5, 0.9)


class XGBoostRegressor(ScoreModel):
    """``hist`` trees on [title vector, body vector, posting-time features], CUDA when
    present, early stopping on validation. ``params["quantiles"]``: predict the 10 %, 50 % and
    90 % quantiles of the target (the median is the score, the others its interval)."""

    family = "xgboost_regressor"
    engine = "xgboost"

    @property
    def quantiles(self) -> bool:
        return bool(self.params.get("quantiles", False))

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
            n_estimators=p.get("n_estimators", 400), max_depth=p.get("max_depth", 4),
            learning_rate=p.get("learning_rate", 0.05), subsample=0.8, colsample_bytree=0.3,
            min_child_weight=p.get("min_child_weight", 5), max_bin=64, tree_method="hist",
            device="cuda" if cuda_available() else "cpu", early_stopping_rounds=30,
            n_jobs=p.get("n_jobs", 0), random_state=p.get("seed", 0), **objective,
            callbacks=[xgboost_progress(log, "xgboost score", p.get("n_estimators", 400))])
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
        predicted = np.sort(predicted, axis=1)  # quantile crossing: keep them ordered
        # the recalibration moves the median; the interval keeps its width around it
        intercept, slope = self.recalibration
        shift = intercept + (slope - 1.0) * predicted[:, 1]
        low, mid, high = (self.from_target(predicted[:, i] + shift, recalibrate=False)
                          for i in range(3))
        return Scores(score=mid, score_low=low, score_high=high)

    def save_state(self, directory: Path) -> None:
        self.model.save_model(directory / "model.ubj")
        (directory / "importance.json").write_text(json.dumps(self.importance, indent=1))

    def load_state(self, directory: Path) -> None:
        import xgboost as xgb

        self.model = xgb.XGBRegressor()
        self.model.load_model(directory / "model.ubj")
        self.importance = json.loads((directory / "importance.json").read_text())
