"""Input drift of question vectors: can a classifier tell the day's questions from the
training questions?

The statistic is a domain classifier's cross-validated ROC AUC (as Evidently measures drift of
embeddings): logistic regression on the [title, body] vectors, labels "day" against
"training", scored out of fold. 0.5 means the two are indistinguishable; questions of another
site or topic push it towards 1. Unlike a per-dimension test it sees the direction the
questions moved in, and unlike MMD its scale reads the same for every encoder width.
"""

from __future__ import annotations

import numpy as np

MIN_QUESTIONS = 20
"""Fewer questions in a day than this tell nothing about drift (the AUC is left NaN)."""


def domain_classifier_auc(reference: np.ndarray, current: np.ndarray, folds: int = 5,
                          seed: int = 0) -> float:
    """Cross-validated ROC AUC of telling ``current`` rows from ``reference`` rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if len(current) < MIN_QUESTIONS or len(reference) < MIN_QUESTIONS:
        return float("nan")
    x = np.vstack([reference, current]).astype(np.float32)
    y = np.r_[np.zeros(len(reference)), np.ones(len(current))]
    folds = min(folds, len(current), len(reference))
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(LogisticRegression(C=1.0, max_iter=500,
                                                  class_weight="balanced"),
                               x, y, cv=split, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, scores))
