"""Quality of predictions on questions as they arrive: the asker's own tags are the truth.

Counts are kept beside the rates (true positives, predicted and actual labels, questions), so
that days pool into rolling figures exactly (a 7-day micro-F1 is not a mean of daily ones).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ranked:
    """One question's predictions of one kind: labels best first, and those chosen."""

    labels: Sequence[str]
    chosen: frozenset[str]


def level_counts(predicted: Mapping[int, Ranked], truth: Mapping[int, set[str]]
                 ) -> dict[str, float]:
    """Counts for micro-F1, P@1 and R@5 over the questions with at least one true label."""
    tp = n_predicted = n_true = hits1 = questions = 0
    recall5 = 0.0
    for question, true in truth.items():
        if not true:
            continue
        ranked = predicted.get(question, Ranked((), frozenset()))
        questions += 1
        tp += len(ranked.chosen & true)
        n_predicted += len(ranked.chosen)
        n_true += len(true)
        hits1 += bool(ranked.labels) and ranked.labels[0] in true
        recall5 += len(set(ranked.labels[:5]) & true) / len(true)
    return {"tp": tp, "predicted": n_predicted, "true": n_true, "hits_at_1": hits1,
            "recall_at_5_sum": recall5, "questions": questions}


def rates(counts: Mapping[str, float]) -> dict[str, float]:
    """micro-F1, P@1 and R@5 from (pooled) counts; NaN without a labelled question."""
    questions = counts["questions"]
    denominator = counts["predicted"] + counts["true"]
    return {"micro_f1": 2 * counts["tp"] / denominator if denominator else float("nan"),
            "P@1": counts["hits_at_1"] / questions if questions else float("nan"),
            "R@5": counts["recall_at_5_sum"] / questions if questions else float("nan")}


def pooled(days: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The counts of several days added up."""
    keys = ("tp", "predicted", "true", "hits_at_1", "recall_at_5_sum", "questions")
    return {k: float(sum(day.get(k, 0.0) for day in days)) for k in keys}


def unpredictable_share(tag_lists: Sequence[Sequence[str]], predictable: set[str]) -> float:
    """The share of the day's tag occurrences the model cannot predict (tags new since
    training, or outside its label space and not imputed to a kept tag)."""
    occurrences = [t for tags in tag_lists for t in tags]
    if not occurrences:
        return float("nan")
    return float(np.mean([t not in predictable for t in occurrences]))


def unseen_rate(tag_lists: Sequence[Sequence[str]], seen: set[str]) -> float:
    """The share of the day's distinct tags no training question carries."""
    distinct = {t for tags in tag_lists for t in tags}
    return len(distinct - seen) / len(distinct) if distinct else float("nan")
