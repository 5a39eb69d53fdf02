"""Linear one-vs-rest model on TF-IDF of title and body."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.models.core.base import Scores, TagModel, Target, TrainResult
from so_assets.models.core.data import Inputs, TrainingData, question_text
from so_assets.models.core.tfidf import load_vectorizer, new_vectorizer, save_vectorizer
from so_assets.models.training.progress import Progress
from so_assets.params import Params, param


@dataclass(frozen=True)
class TfidfLinearParams(Params):
    C: float = param(4.0, "Inverse L2 penalty of every label's logistic regression.", gt=0)
    max_features: int = param(200_000, "Most frequent word 1-2 grams kept in the TF-IDF "
                                       "vocabulary.", ge=1)
    prune_below: float = param(
        0.03, "Weights smaller than this are dropped: TF-IDF rows are L2-normalised, so such a "
              "weight moves a logit by under 0.03 even for a one-word question (on crypto 22 % "
              "of the weights are kept; test micro-F1 moved by at most 0.9 points).", ge=0)


@dataclass
class LabelwiseLogistic:
    """One logistic regression per label, fitted one small binary problem at a time with
    liblinear: memory grows with the sparse matrix, not with the number of labels (the seed's
    TF-IDF baseline ran out of RAM at 133 tags). A label never positive in training scores 0;
    one positive on every training question (``android`` on an Android-only export) scores 1,
    as there is nothing to separate. Weights are kept sparse (``prune_below``)."""

    coef: object  # scipy.sparse CSR [labels with both classes in training, features] float32
    intercept: np.ndarray  # [labels with both classes in training]
    present: np.ndarray  # [labels] bool: both classes seen, a regression fitted
    always: np.ndarray | None = None  # [labels] bool: positive on every training question

    @classmethod
    def fit(cls, x, y: np.ndarray, c: float, log: logging.Logger | None = None,
            label: str = "labels", prune_below: float = 0.0) -> LabelwiseLogistic:
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression

        positives = y.sum(0)
        present, always = (positives > 0) & (positives < len(y)), positives == len(y)
        rows: list[sparse.csr_matrix] = []
        intercept = np.zeros(int(present.sum()), dtype=np.float32)
        progress = Progress(log, f"tfidf_linear {label}", len(intercept), "labels fitted")
        for row, column in enumerate(np.flatnonzero(present)):
            model = LogisticRegression(C=c, solver="liblinear", class_weight="balanced",
                                       random_state=0)
            model.fit(x, y[:, column])
            weights = model.coef_[0].astype(np.float32)
            weights[np.abs(weights) < prune_below] = 0
            rows.append(sparse.csr_matrix(weights))
            intercept[row] = model.intercept_[0]
            progress.step()
        coef = (sparse.vstack(rows, format="csr", dtype=np.float32) if rows else
                sparse.csr_matrix((0, x.shape[1]), dtype=np.float32))
        return cls(coef, intercept, present, always)

    @functools.cached_property
    def _by_feature(self):
        """coef as [features, labels] CSR, built once: a question's few terms pick their rows
        (``x @ coef.T`` converted all of coef per call: 17 ms of one question on robotics)."""
        return self.coef.T.tocsr()

    def scores(self, x) -> np.ndarray:
        """[n, labels] probabilities."""
        out = np.zeros((x.shape[0], len(self.present)), dtype=np.float32)
        if self.coef.shape[0]:
            product = x @ self._by_feature
            logits = (product.toarray() if hasattr(product, "toarray") else product) + \
                self.intercept
            out[:, self.present] = 1 / (1 + np.exp(-logits))
        if self.always is not None:
            out[:, self.always] = 1.0
        return out

    def save(self, directory: Path, name: str) -> None:
        """As data: the sparse weights (``<name>_coef.npz``) and the other arrays."""
        from scipy import sparse

        sparse.save_npz(directory / f"{name}_coef.npz", self.coef.tocsr())
        np.savez(directory / f"{name}_arrays.npz", intercept=self.intercept,
                 present=self.present,
                 always=self.always if self.always is not None else np.zeros(0, bool))

    @classmethod
    def load(cls, directory: Path, name: str) -> LabelwiseLogistic:
        from scipy import sparse

        arrays = np.load(directory / f"{name}_arrays.npz", allow_pickle=False)
        always = arrays["always"]
        return cls(sparse.load_npz(directory / f"{name}_coef.npz").tocsr(),
                   arrays["intercept"], arrays["present"], always if len(always) else None)


class TfidfLinear(TagModel):
    """TF-IDF (words 1-2 grams) -> one-vs-rest logistic regression, for clusters and tags."""

    family = "tfidf_linear"
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    engine = "scikitlearn"
    shares_state = True
    params_class = TfidfLinearParams
    params: TfidfLinearParams

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        p = self.params
        self.vectorizer = new_vectorizer(p.max_features)
        x = self.vectorizer.fit_transform(question_text(data.train.titles, data.train.bodies))
        if log:
            log.info("tfidf_linear: %d questions x %d features", *x.shape)
        self.cluster_model = LabelwiseLogistic.fit(x, data.train.clusters, p.C, log,
                                                   "clusters", p.prune_below)
        self.tag_model = LabelwiseLogistic.fit(x, data.train.tags, p.C, log, "tags",
                                               p.prune_below)
        return TrainResult()

    def predict_scores(self, inputs: Inputs) -> Scores:
        x = self.vectorizer.transform(question_text(inputs.titles, inputs.bodies))
        return Scores(clusters=self.cluster_model.scores(x), tags=self.tag_model.scores(x))

    def save_state(self, directory: Path) -> None:
        save_vectorizer(self.vectorizer, directory, "tfidf")
        self.cluster_model.save(directory, "clusters")
        self.tag_model.save(directory, "tags")

    def load_state(self, directory: Path) -> None:
        self.vectorizer = load_vectorizer(directory, "tfidf")
        self.cluster_model = LabelwiseLogistic.load(directory, "clusters")
        self.tag_model = LabelwiseLogistic.load(directory, "tags")
