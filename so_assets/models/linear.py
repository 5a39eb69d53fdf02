"""Linear one-vs-rest model on TF-IDF of title and body."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from so_assets.models.base import Inputs, Predictor, TrainingData


def question_text(titles: list[str], bodies: list[str]) -> list[str]:
    """Title twice (it matters more) then the body."""
    return [f"{t} {t} {b}" for t, b in zip(titles, bodies, strict=True)]


def _ovr(c: float) -> OneVsRestClassifier:
    # liblinear fits one small binary problem at a time: memory grows with the sparse matrix,
    # not with the number of labels (the seed's TF-IDF baseline ran out of RAM at 133 tags).
    return OneVsRestClassifier(LogisticRegression(C=c, solver="liblinear",
                                                  class_weight="balanced"))


def _fit_labels(model: OneVsRestClassifier, x, y: np.ndarray) -> OneVsRestClassifier | None:
    present = y.sum(0) > 0
    if not present.any():
        return None
    # Labels never positive in training get score 0; fitting needs both classes.
    model.fit(x, y[:, present])
    model.present_ = present
    return model


def _scores(model: OneVsRestClassifier | None, x, width: int) -> np.ndarray:
    out = np.zeros((x.shape[0], width), dtype=np.float32)
    if model is not None:
        out[:, model.present_] = model.predict_proba(x)
    return out


class TfidfLinear(Predictor):
    """TF-IDF (words 1-2 grams) -> one-vs-rest logistic regression, for clusters and tags."""

    family = "tfidf_linear"
    predicts_tags = True

    def fit(self, data: TrainingData) -> None:
        p = self.params
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                          max_features=p.get("max_features", 200_000),
                                          dtype=np.float32)
        x = self.features(data.inputs(data.train), fit=True)
        self.cluster_model = _fit_labels(_ovr(p.get("C", 4.0)), x, data.train.clusters)
        self.tag_model = _fit_labels(_ovr(p.get("C", 4.0)), x, data.train.tags)

    def features(self, inputs: Inputs, fit: bool = False):
        text = question_text(inputs.titles, inputs.bodies)
        return self.vectorizer.fit_transform(text) if fit else self.vectorizer.transform(text)

    def cluster_scores(self, inputs: Inputs) -> np.ndarray:
        return _scores(self.cluster_model, self.features(inputs), self.labels.n_clusters)

    def tag_scores(self, inputs: Inputs) -> np.ndarray:
        return _scores(self.tag_model, self.features(inputs), self.labels.n_tags)

    def save_state(self, directory: Path) -> None:
        joblib.dump({"vectorizer": self.vectorizer, "clusters": self.cluster_model,
                     "tags": self.tag_model}, directory / "model.joblib")

    def load_state(self, directory: Path) -> None:
        state = joblib.load(directory / "model.joblib")
        self.vectorizer = state["vectorizer"]
        self.cluster_model, self.tag_model = state["clusters"], state["tags"]
