"""Linear one-vs-rest model on TF-IDF of title and body."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from so_assets.models.base import Scores, TagModel, Target, TrainResult
from so_assets.models.data import Inputs, TrainingData


def question_text(titles: list[str], bodies: list[str]) -> list[str]:
    """Title twice (it matters more) then the body."""
    return [f"{t} {t} {b}" for t, b in zip(titles, bodies, strict=True)]


def _ovr(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    # liblinear fits one small binary problem at a time: memory grows with the sparse matrix,
    # not with the number of labels (the seed's TF-IDF baseline ran out of RAM at 133 tags).
    return OneVsRestClassifier(LogisticRegression(C=c, solver="liblinear",
                                                  class_weight="balanced"))


def _fit_labels(model: Any, x, y: np.ndarray) -> Any | None:
    present = y.sum(0) > 0
    if not present.any():
        return None
    # Labels never positive in training get score 0; fitting needs both classes.
    model.fit(x, y[:, present])
    model.present_ = present
    return model


def _scores(model: Any | None, x, width: int) -> np.ndarray:
    out = np.zeros((x.shape[0], width), dtype=np.float32)
    if model is not None:
        out[:, model.present_] = model.predict_proba(x)
    return out


class TfidfLinear(TagModel):
    """TF-IDF (words 1-2 grams) -> one-vs-rest logistic regression, for clusters and tags."""

    family = "tfidf_linear"
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    engine = "scikitlearn"

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from sklearn.feature_extraction.text import TfidfVectorizer

        p = self.params
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                          max_features=p.get("max_features", 200_000),
                                          dtype=np.float32)
        x = self.vectorizer.fit_transform(question_text(data.train.titles, data.train.bodies))
        self.cluster_model = _fit_labels(_ovr(p.get("C", 4.0)), x, data.train.clusters)
        self.tag_model = _fit_labels(_ovr(p.get("C", 4.0)), x, data.train.tags)
        return TrainResult()

    def predict_scores(self, inputs: Inputs) -> Scores:
        x = self.vectorizer.transform(question_text(inputs.titles, inputs.bodies))
        return Scores(clusters=_scores(self.cluster_model, x, self.labels.n_clusters),
                      tags=_scores(self.tag_model, x, self.labels.n_tags))

    def save_state(self, directory: Path) -> None:
        import joblib

        joblib.dump({"vectorizer": self.vectorizer, "clusters": self.cluster_model,
                     "tags": self.tag_model}, directory / "model.joblib")

    def load_state(self, directory: Path) -> None:
        import joblib

        state = joblib.load(directory / "model.joblib")
        self.vectorizer = state["vectorizer"]
        self.cluster_model, self.tag_model = state["clusters"], state["tags"]
