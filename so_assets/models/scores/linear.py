"""TF-IDF + SVD + Ridge: the reference's linear score regressor, with the posting-time
features beside the text components."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from so_assets.models.core.base import ScoreModel, ScoreParams, Scores, TrainResult
from so_assets.models.core.data import Inputs, TrainingData, question_text
from so_assets.models.core.tfidf import load_vectorizer, new_vectorizer, save_vectorizer
from so_assets.models.scores.features import tabular_features
from so_assets.params import param


@dataclass(frozen=True)
class TfidfSvdRidgeParams(ScoreParams):
    max_features: int = param(100_000, "Most frequent word 1-2 grams kept in the TF-IDF "
                                       "vocabulary.", ge=1)
    components: int = param(256, "Truncated-SVD components of the TF-IDF matrix (at most "
                                 "the vocabulary and the questions less one).", ge=1)
    alpha: float = param(10.0, "Ridge penalty.", gt=0)
    seed: int = param(0, "Seed of the randomized SVD.", ge=0)


class TfidfSvdRidge(ScoreModel):
    """TF-IDF of title and body (1-2 grams) reduced by truncated SVD, standardised features,
    then ridge regression on the target."""

    family = "tfidf_svd_ridge"
    engine = "scikitlearn"
    params_class = TfidfSvdRidgeParams
    params: TfidfSvdRidgeParams

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.linear_model import Ridge

        p = self.params
        train = self.scored(data.train)
        self.vectorizer = new_vectorizer(p.max_features)
        text = self.vectorizer.fit_transform(question_text(train.titles, train.bodies))
        components = max(1, min(p.components, text.shape[1] - 1, len(train) - 1))
        self.components = TruncatedSVD(components, random_state=p.seed).fit(text).components_
        tab = tabular_features(train, self.labels.n_clusters)
        self.tab_mean, self.tab_std = tab.mean(0), tab.std(0) + 1e-6
        ridge = Ridge(alpha=p.alpha).fit(self._x(train), self.to_target(train.scores))
        self.coef, self.intercept = ridge.coef_, float(ridge.intercept_)
        return TrainResult()

    def _x(self, inputs: Inputs) -> Any:
        text = self.vectorizer.transform(question_text(inputs.titles, inputs.bodies)
                                         ) @ self.components.T  # TruncatedSVD's transform
        tab = (tabular_features(inputs, self.labels.n_clusters) - self.tab_mean) / self.tab_std
        return np.hstack([text, tab])

    def predict_scores(self, inputs: Inputs) -> Scores:
        if not len(inputs):
            return Scores(score=np.zeros(0))
        return Scores(score=self.from_target(self._x(inputs) @ self.coef + self.intercept))

    def save_state(self, directory: Path) -> None:
        save_vectorizer(self.vectorizer, directory, "tfidf")
        np.savez(directory / "svd_ridge.npz", components=self.components, coef=self.coef,
                 intercept=self.intercept, tab_mean=self.tab_mean, tab_std=self.tab_std)

    def load_state(self, directory: Path) -> None:
        self.vectorizer = load_vectorizer(directory, "tfidf")
        saved = np.load(directory / "svd_ridge.npz", allow_pickle=False)
        self.components, self.coef = saved["components"], saved["coef"]
        self.intercept = float(saved["intercept"])
        self.tab_mean, self.tab_std = saved["tab_mean"], saved["tab_std"]


class TabularRidge(ScoreModel):
    """Ridge on the posting-time features alone (lengths, code blocks, tags, clusters, hour,
    weekday, reputation, horizon), standardised, its penalty chosen by cross-validation on the
    training split: a few dozen numbers instead of hundreds of text dimensions, for sites too
    small for the text to say more than the question's shape does."""

    family = "tabular_ridge"
    engine = "scikitlearn"

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from sklearn.linear_model import RidgeCV

        train = self.scored(data.train)
        tab = tabular_features(train, self.labels.n_clusters)
        self.tab_mean, self.tab_std = tab.mean(0), tab.std(0) + 1e-6
        model = RidgeCV(alphas=np.logspace(-1, 4, 21)).fit((tab - self.tab_mean) / self.tab_std,
                                                            self.to_target(train.scores))
        self.coef, self.intercept, self.alpha = model.coef_, float(model.intercept_), model.alpha_
        if log:
            log.info("tabular_ridge: penalty %.3g chosen by cross-validation", self.alpha)
        return TrainResult()

    def predict_scores(self, inputs: Inputs) -> Scores:
        tab = (tabular_features(inputs, self.labels.n_clusters) - self.tab_mean) / self.tab_std
        return Scores(score=self.from_target(tab @ self.coef + self.intercept))

    def feature_importance(self) -> dict[str, float]:
        """Each feature's standardised coefficient, by magnitude."""
        from so_assets.models.scores.features import tabular_names

        names = tabular_names(self.labels.n_clusters)
        return dict(sorted(zip(names, np.abs(self.coef).tolist(), strict=True),
                           key=lambda item: -item[1]))

    def save_state(self, directory: Path) -> None:
        np.savez(directory / "ridge.npz", coef=self.coef, intercept=self.intercept,
                 alpha=self.alpha, tab_mean=self.tab_mean, tab_std=self.tab_std)

    def load_state(self, directory: Path) -> None:
        saved = np.load(directory / "ridge.npz")
        self.coef, self.intercept = saved["coef"], float(saved["intercept"])
        self.alpha, self.tab_mean, self.tab_std = float(saved["alpha"]), saved["tab_mean"], \
            saved["tab_std"]
