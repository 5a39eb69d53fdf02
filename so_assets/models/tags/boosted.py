"""XGBoost as the seed set it up: single-label multiclass on the majority-vote cluster."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.models.core.base import Scores, TagModel, TrainResult
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.models.training.progress import cuda_available, xgboost_progress
from so_assets.params import Params, param


@dataclass(frozen=True)
class XGBoostMulticlassParams(Params):
    n_estimators: int = param(150, "Boosting rounds at most (early stopping on validation "
                                   "after 15 without gain).", ge=1)
    max_depth: int = param(4, "Depth of every tree.", ge=1)
    learning_rate: float = param(0.2, "Shrinkage of every tree.", gt=0, le=1)
    n_jobs: int = param(0, "Threads (0: every core).", ge=0)
    seed: int = param(0, "Seed of the row and column subsampling.", ge=0)


class XGBoostMulticlass(TagModel):
    """``multi:softprob`` on [title, body] vectors; ``hist`` trees, on CUDA when present.

    Its class probabilities rank every cluster, so the multi-label decision is a threshold on
    them (top cluster always kept).
    """

    family = "xgboost"
    engine = "xgboost"
    params_class = XGBoostMulticlassParams
    params: XGBoostMulticlassParams

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        import xgboost as xgb

        p = self.params
        target = data.train.majority_cluster()
        self.classes_ = np.unique(target)  # xgboost wants classes 0..m-1
        self.model = None
        if len(self.classes_) < 2:  # one majority cluster for every question: nothing to learn
            return TrainResult()
        remap = {c: i for i, c in enumerate(self.classes_)}
        self.model = xgb.XGBClassifier(
            n_estimators=p.n_estimators, max_depth=p.max_depth,
            learning_rate=p.learning_rate, subsample=0.8, colsample_bytree=0.3,
            max_bin=64, tree_method="hist", device="cuda" if cuda_available() else "cpu",
            # two classes make XGBClassifier binary (one output): its metric is logloss
            early_stopping_rounds=15, eval_metric="mlogloss" if len(self.classes_) > 2
            else "logloss", n_jobs=p.n_jobs,
            random_state=p.seed, callbacks=[xgboost_progress(log, "xgboost", p.n_estimators)])
        valid = np.isin(data.validation.majority_cluster(), self.classes_)
        val_target = np.array([remap[c] for c in data.validation.majority_cluster()[valid]])
        x_val = self._x(data.validation)[valid]
        self.model.fit(self._x(data.train), np.array([remap[c] for c in target]),
                       eval_set=[(x_val, val_target)] if len(val_target) else None,
                       verbose=False)
        return TrainResult()

    @staticmethod
    def _x(inputs: Inputs) -> np.ndarray:
        return np.hstack([inputs.title_vectors, inputs.body_vectors])

    def predict_scores(self, inputs: Inputs) -> Scores:
        out = np.zeros((len(inputs), self.labels.n_clusters), dtype=np.float32)
        if self.model is None:
            out[:, self.classes_] = 1.0
        elif len(inputs):
            out[:, self.classes_] = self.model.predict_proba(self._x(inputs))
        return Scores(clusters=out)

    def save_state(self, directory: Path) -> None:
        if self.model is not None:
            self.model.save_model(directory / "model.ubj")
        np.save(directory / "classes.npy", self.classes_)

    def load_state(self, directory: Path) -> None:
        import xgboost as xgb

        self.classes_ = np.load(directory / "classes.npy")
        self.model = None
        if (directory / "model.ubj").exists():
            self.model = xgb.XGBClassifier()
            self.model.load_model(directory / "model.ubj")
