"""Multi-label metrics for tag predictors: F1 variants, ranking metrics, frequency buckets."""

from __future__ import annotations

import sys

import numpy as np


def micro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Micro-averaged F1 of binary decisions against the true labels."""
    tp = float((truth.astype(bool) & predicted).sum())
    denominator = float(truth.sum() + predicted.sum())
    return 2 * tp / denominator if denominator else 0.0


RANK_ROWS = 2048  # questions ranked at a time: memory is RANK_ROWS x labels, not n x labels
TORCH_TOP_FROM = 16_000_000
"""Scores (rows x labels) from which :func:`top_columns` loads torch to rank them: its topk
takes 4-6x less CPU than NumPy's argpartition on rows of hundreds of labels or more (2,048 x
15,672: 47 against 281 ms), and loading it costs about 1.6 s of CPU, once per process."""


def torch_pays(scores: np.ndarray) -> bool:
    """Whether :func:`top_columns` ranks ``scores`` (or row chunks of it) with torch: float
    scores, and torch loaded already or ``scores`` large enough to pay for loading it."""
    return scores.dtype in (np.float32, np.float64) and (
        "torch" in sys.modules or scores.size >= TORCH_TOP_FROM)


def top_columns(scores: np.ndarray, k: int, with_torch: bool | None = None) -> np.ndarray:
    """[n, k] the columns of each row's ``k`` highest scores, in no particular order (any of
    equal scores): torch's topk when :func:`torch_pays` (or ``with_torch``), else NumPy's
    argpartition."""
    if torch_pays(scores) if with_torch is None else with_torch:
        import torch

        return torch.topk(torch.from_numpy(np.ascontiguousarray(scores)), k, dim=1,
                          sorted=False).indices.numpy()
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]


def best_labels(scores: np.ndarray, k: int) -> np.ndarray:
    """[n, min(k, labels)] each row's best-scored label columns, best first (the top k of each
    row, then a sort of the k: linear in the labels, where a full sort is not), ranked
    ``RANK_ROWS`` rows at a time."""
    depth = min(k, scores.shape[1])
    out = np.zeros((len(scores), depth), np.int64)
    with_torch = torch_pays(scores)
    for lo in range(0, len(scores), RANK_ROWS):
        s = scores[lo: lo + RANK_ROWS]
        top = top_columns(s, depth, with_torch)
        out[lo: lo + RANK_ROWS] = np.take_along_axis(
            top, np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable"), 1)
    return out


def ranking_metrics(truth: np.ndarray, scores: np.ndarray, ks=(1, 3, 5)) -> dict[str, float]:
    """P@k, R@5 and nDCG@5 over questions with at least one true label, from each question's
    five best labels (ranked a chunk of questions at a time)."""
    has = np.flatnonzero(truth.sum(1) > 0)
    if not len(has):
        return {}
    depth = min(5, scores.shape[1])
    gains = 1 / np.log2(np.arange(2, 2 + depth))
    ideal_of = np.r_[0.0, np.cumsum(gains)]  # the best DCG of a question with n true labels
    totals = dict.fromkeys([*(f"P@{k}" for k in ks), "R@5", "nDCG@5"], 0.0)
    for lo in range(0, len(has), RANK_ROWS):
        rows = has[lo: lo + RANK_ROWS]
        y = truth[rows].astype(bool)
        hits = np.take_along_axis(y, best_labels(scores[rows], depth), axis=1)
        positives = y.sum(1)
        for k in ks:
            totals[f"P@{k}"] += float(hits[:, :k].sum() / min(k, depth))
        totals["R@5"] += float((hits.sum(1) / positives).sum())
        totals["nDCG@5"] += float(((hits * gains).sum(1)
                                   / ideal_of[np.minimum(positives, depth)]).sum())
    return {name: total / len(has) for name, total in totals.items()}


def frequency_buckets(train_truth: np.ndarray) -> dict[str, np.ndarray]:
    """Labels split by training frequency: head, torso and tail each hold about a third of
    all label occurrences."""
    counts = train_truth.sum(0)
    order = np.argsort(-counts, kind="stable")
    before = (np.cumsum(counts[order]) - counts[order]) / max(counts.sum(), 1)
    return {"head": order[before < 1 / 3],
            "torso": order[(before >= 1 / 3) & (before < 2 / 3)],
            "tail": order[before >= 2 / 3]}


def _f1(tp: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """F1 from counts; 0 where nothing is predicted or true (scikit-learn's zero_division=0)."""
    denominator = predicted + actual
    return np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)


def multilabel_metrics(truth: np.ndarray, scores: np.ndarray, predicted: np.ndarray,
                       buckets: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Every summary metric of the evaluation report for one model on one split (F1 variants
    as scikit-learn defines them with zero_division=0, from per-label and per-question counts,
    so that no [n, labels] copy is made beyond one bool matrix)."""
    y = truth.astype(bool, copy=False)
    hit = y & predicted
    tp_label, predicted_label, actual_label = hit.sum(0), predicted.sum(0), y.sum(0)
    tp, n_predicted, n_actual = int(tp_label.sum()), int(predicted_label.sum()), int(
        actual_label.sum())
    label_f1 = _f1(tp_label, predicted_label, actual_label)
    out = {
        "micro_f1": float(_f1(np.array(tp), np.array(n_predicted), np.array(n_actual))),
        "macro_f1": float(label_f1.mean()) if len(label_f1) else 0.0,
        "weighted_f1": float((label_f1 * actual_label).sum() / n_actual) if n_actual else 0.0,
        "samples_f1": float(_f1(hit.sum(1), predicted.sum(1), y.sum(1)).mean())
        if len(y) else 0.0,
        "micro_precision": tp / n_predicted if n_predicted else 0.0,
        "micro_recall": tp / n_actual if n_actual else 0.0,
        "hamming_loss": (n_predicted + n_actual - 2 * tp) / max(y.size, 1),
        "labels_ever_predicted": float(predicted.any(0).mean()),
    }
    out |= ranking_metrics(truth, scores)
    for name, labels in (buckets or {}).items():
        positives = actual_label[labels].sum()
        out[f"recall_{name}"] = float(tp_label[labels].sum() / positives
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
