"""TF-IDF + SVD + Ridge: the reference's linear score regressor, with the posting-time
features beside the text components."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from so_assets.models.base import ScoreModel, Scores, TrainResult
from so_assets.models.data import Inputs, TrainingData
from so_assets.models.features import tabular_features
from so_assets.models.linear import question_text


class TfidfSvdRidge(ScoreModel):
    """TF-IDF of title and body (1-2 grams) reduced by truncated SVD, standardised features,
    then ridge regression on the target."""

    family = "tfidf_svd_ridge"
    engine = "scikitlearn"

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import Ridge

        p = self.params
        train = self.scored(data.train)
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                          max_features=p.get("max_features", 100_000),
                                          dtype=np.float32)
        text = self.vectorizer.fit_transform(question_text(train.titles, train.bodies))
        components = max(1, min(p.get("components", 256), text.shape[1] - 1, len(train) - 1))
        self.svd = TruncatedSVD(components, random_state=p.get("seed", 0)).fit(text)
        tab = tabular_features(train, self.labels.n_clusters)
        self.tab_mean, self.tab_std = tab.mean(0), tab.std(0) + 1e-6
        self.ridge = Ridge(alpha=p.get("alpha", 10.0)).fit(self._x(train),
                                                            self.to_target(train.scores))
        return TrainResult()

    def _x(self, inputs: Inputs) -> Any:
        text = self.svd.transform(self.vectorizer.transform(
            question_text(inputs.titles, inputs.bodies)))
        tab = (tabular_features(inputs, self.labels.n_clusters) - self.tab_mean) / self.tab_std
        return np.hstack([text, tab])

    def predict_scores(self, inputs: Inputs) -> Scores:
        if not len(inputs):
            return Scores(score=np.zeros(0))
        return Scores(score=self.from_target(self.ridge.predict(self._x(inputs))))

    def save_state(self, directory: Path) -> None:
        import joblib

        joblib.dump({"vectorizer": self.vectorizer, "svd": self.svd, "ridge": self.ridge,
                     "tab_mean": self.tab_mean, "tab_std": self.tab_std},
                    directory / "model.joblib")

    def load_state(self, directory: Path) -> None:
        import joblib

        state = joblib.load(directory / "model.joblib")
        self.vectorizer, self.svd, self.ridge = state["vectorizer"], state["svd"], state["ridge"]
        self.tab_mean, self.tab_std = state["tab_mean"], state["tab_std"]
