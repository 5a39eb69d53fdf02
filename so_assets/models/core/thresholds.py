"""Decision thresholds tuned on validation scores: one global value, or one per label."""

from __future__ import annotations

import numpy as np

from so_assets.evaluation.tag_metrics import best_labels, micro_f1, top_columns, torch_pays

GRID = np.round(np.arange(0.02, 0.96, 0.02), 2)
MAX_LABELS = 5
"""A StackOverflow question carries 1 to 5 tags (so at most 5 clusters): no decision names more."""
CROWDED_ROWS = 2048
"""Rows cut to their best labels at a time: at a low threshold nearly every row is crowded, and
the copy and the int64 ranking of 10,000 rows x 15,000 tag labels took 2 GB at once."""


def apply_thresholds(scores: np.ndarray, thresholds: np.ndarray | float,
                     at_least_one: bool = True, at_most: int | None = MAX_LABELS
                     ) -> np.ndarray:
    """Binary predictions: the labels at or above their threshold, the top label always (with
    ``at_least_one``) and never more than the ``at_most`` best-scored ones. Thresholds are
    tuned on validation with this rule in place, so it is part of what they are chosen for."""
    predicted = scores >= thresholds
    if at_least_one and len(scores):
        predicted[np.arange(len(scores)), scores.argmax(axis=1)] = True
    if at_most is not None and scores.shape[1] > at_most:
        crowded = np.flatnonzero(predicted.sum(1) > at_most)
        with_torch = torch_pays(scores)
        for lo in range(0, len(crowded), CROWDED_ROWS):
            chunk = crowded[lo: lo + CROWDED_ROWS]
            best = top_columns(scores[chunk], at_most, with_torch)
            kept = np.zeros((len(chunk), scores.shape[1]), dtype=bool)
            np.put_along_axis(kept, best, True, axis=1)
            predicted[chunk] &= kept
    return predicted


def best_global_threshold(truth: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The grid threshold with the best micro-F1 under :func:`apply_thresholds`' rule, and that
    F1 (the highest such threshold on a tie).

    A question's decision at a global threshold is a prefix of its ``MAX_LABELS`` best labels
    (at least the first), so one ranking of each row answers every grid value: the cost is one
    pass over ``scores``, not one per grid value. Ties at the cut are taken in rank order.
    """
    if not truth.size:
        return float(GRID[0]), 0.0
    depth = min(MAX_LABELS, scores.shape[1])
    ranked = best_labels(scores, depth)
    ranked_scores = np.take_along_axis(scores, ranked, 1)
    hits = np.take_along_axis(truth, ranked, 1).astype(bool)
    cumulative_hits = np.cumsum(hits, axis=1)
    first_hit = truth[np.arange(len(scores)), scores.argmax(axis=1)].astype(bool)
    true_labels = float(truth.sum())
    best_f1, best = -1.0, GRID[0]
    for threshold in GRID:
        named = (ranked_scores >= threshold).sum(1)
        tp = np.where(named > 0, np.take_along_axis(
            cumulative_hits, np.maximum(named - 1, 0)[:, None], 1)[:, 0], first_hit).sum()
        denominator = true_labels + np.maximum(named, 1).sum()
        f1 = 2 * float(tp) / denominator if denominator else 0.0
        if f1 >= best_f1:
            best_f1, best = f1, threshold
    return float(best), float(best_f1)


LABEL_COLUMNS = 512
"""Labels histogrammed at a time in :func:`best_label_thresholds` (memory: rows x this)."""


def best_label_thresholds(truth: np.ndarray, scores: np.ndarray, fallback: float,
                          min_positives: int = 3) -> np.ndarray:
    """Per-label thresholds maximising each label's F1 (the lowest such grid value);
    labels with fewer than ``min_positives`` validation positives keep ``fallback``.

    Each label's scores are counted into the grid's bins once, all labels of a block together;
    every grid value's predictions and hits are then sums over the bins at or above it.
    """
    thresholds = np.full(scores.shape[1], fallback, dtype=np.float32)
    positives = truth.sum(0)
    labels = np.flatnonzero(positives >= min_positives)
    bins = len(GRID) + 1
    for lo in range(0, len(labels), LABEL_COLUMNS):
        block = labels[lo: lo + LABEL_COLUMNS]
        # bin b holds scores in [GRID[b-1], GRID[b]): a score is >= GRID[g] iff its bin > g
        binned = np.searchsorted(GRID, scores[:, block], side="right")
        binned += np.arange(len(block)) * bins
        size = len(block) * bins
        counts = np.bincount(binned.ravel(), minlength=size).reshape(len(block), bins)
        hits = np.bincount(binned.ravel(), weights=truth[:, block].astype(np.float64).ravel(),
                           minlength=size).reshape(len(block), bins)
        predicted = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1][:, 1:]
        tp = np.cumsum(hits[:, ::-1], axis=1)[:, ::-1][:, 1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.nan_to_num(2 * tp / (predicted + positives[block][:, None]))
        thresholds[block] = GRID[f1.argmax(axis=1)]
    return thresholds


PRIOR_POSITIVES = 30
"""How many validation positives a label's own threshold weighs as much as the global one."""


def shrunk_label_thresholds(truth: np.ndarray, scores: np.ndarray, global_threshold: float,
                            prior: int = PRIOR_POSITIVES) -> np.ndarray:
    """Each label's best threshold pulled toward the global one by its support:
    ``(n * own + prior * global) / (n + prior)`` for a label with ``n`` validation positives.
    A label seen a handful of times keeps about the global threshold; a frequent one its own."""
    own = best_label_thresholds(truth, scores, global_threshold)
    positives = truth.sum(0)
    return ((positives * own + prior * global_threshold) / (positives + prior)).astype(
        np.float32)


def choose_thresholds(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, str]:
    """Global or shrunk per-label thresholds, whichever has the higher validation micro-F1.

    Thresholds tuned label by label on validation overfit it (they looked better there and
    were worse on test on every real site measured), so each label's own threshold is shrunk
    toward the global one by its support, and taken only when it beats the global threshold
    on validation by a margin (0.005).
    """
    threshold, global_f1 = best_global_threshold(truth, scores)
    per_label = shrunk_label_thresholds(truth, scores, threshold)
    label_f1 = micro_f1(truth, apply_thresholds(scores, per_label))
    if label_f1 > global_f1 + 0.005:
        return per_label, (f"per-label thresholds shrunk toward the global {threshold:.2f} "
                           f"(validation micro-F1 {label_f1:.3f})")
    return (np.full(scores.shape[1], threshold, dtype=np.float32),
            f"global threshold {threshold:.2f} tuned on validation (micro-F1 {global_f1:.3f})")
