"""Multi-label metrics for tag predictors: F1 variants, ranking metrics, frequency buckets."""

from __future__ import annotations

import numpy as np


def micro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Micro-averaged F1 of binary decisions against the true labels."""
    tp = float((truth.astype(bool) & predicted).sum())
    denominator = float(truth.sum() + predicted.sum())
    return 2 * tp / denominator if denominator else 0.0


def ranking_metrics(truth: np.ndarray, scores: np.ndarray, ks=(1, 3, 5)) -> dict[str, float]:
    """P@k, R@5 and nDCG@5 over questions with at least one true label."""
    has = truth.sum(1) > 0
    truth, scores = truth[has].astype(bool), scores[has]
    if not len(truth):
        return {}
    order = np.argsort(-scores, axis=1)
    hits = np.take_along_axis(truth, order, axis=1)
    out = {f"P@{k}": float(hits[:, :k].mean()) for k in ks}
    out["R@5"] = float((hits[:, :5].sum(1) / truth.sum(1)).mean())
    gains = 1 / np.log2(np.arange(2, 7))[: min(5, hits.shape[1])]
    dcg = (hits[:, :5] * gains).sum(1)
    ideal = np.array([gains[: min(n, 5)].sum() for n in truth.sum(1)])
    out["nDCG@5"] = float((dcg / ideal).mean())
    return out


def frequency_buckets(train_truth: np.ndarray) -> dict[str, np.ndarray]:
    """Labels split by training frequency: head, torso and tail each hold about a third of
    all label occurrences."""
    counts = train_truth.sum(0)
    order = np.argsort(-counts, kind="stable")
    before = (np.cumsum(counts[order]) - counts[order]) / max(counts.sum(), 1)
    return {"head": order[before < 1 / 3],
            "torso": order[(before >= 1 / 3) & (before < 2 / 3)],
            "tail": order[before >= 2 / 3]}


def multilabel_metrics(truth: np.ndarray, scores: np.ndarray, predicted: np.ndarray,
                       buckets: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Every summary metric of the evaluation report for one model on one split."""
    from sklearn.metrics import f1_score, hamming_loss, precision_score, recall_score

    y = truth.astype(bool)
    out = {
        "micro_f1": f1_score(y, predicted, average="micro", zero_division=0),
        "macro_f1": f1_score(y, predicted, average="macro", zero_division=0),
        "weighted_f1": f1_score(y, predicted, average="weighted", zero_division=0),
        "samples_f1": f1_score(y, predicted, average="samples", zero_division=0),
        "micro_precision": precision_score(y, predicted, average="micro", zero_division=0),
        "micro_recall": recall_score(y, predicted, average="micro", zero_division=0),
        "hamming_loss": hamming_loss(y, predicted),
        "labels_ever_predicted": float(predicted.any(0).mean()),
    }
    out |= ranking_metrics(truth, scores)
    for name, labels in (buckets or {}).items():
        positives = y[:, labels].sum()
        out[f"recall_{name}"] = float((y[:, labels] & predicted[:, labels]).sum() / positives
                                      ) if positives else float("nan")
    return {k: float(v) for k, v in out.items()}


def per_label_table(truth: np.ndarray, predicted: np.ndarray, names: list[str]
                    ) -> list[dict[str, float | str | int]]:
    """Precision, recall, F1 and support of every label."""
    y = truth.astype(bool)
    rows = []
    for j, name in enumerate(names):
        tp = int((y[:, j] & predicted[:, j]).sum())
        p_count, support = int(predicted[:, j].sum()), int(y[:, j].sum())
        precision = tp / p_count if p_count else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"label": name, "support": support, "precision": precision,
                     "recall": recall, "f1": f1})
    return rows


def threshold_comparison(truth: np.ndarray, chosen: np.ndarray, global_chosen: np.ndarray,
                         validation_f1: float, level: str) -> dict[str, float]:
    """A model's validation micro-F1, its test micro-F1 under its own threshold rule, and its
    test micro-F1 at the single best validation threshold (what per-label tuning must not
    fall below), keyed by ``level``."""
    return {f"{level}_validation": validation_f1, f"{level}_test": micro_f1(truth, chosen),
            f"{level}_test_global": micro_f1(truth, global_chosen)}
