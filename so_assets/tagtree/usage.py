"""Tag vectors that know how a tag is used, not only how it is spelled.

A tag's name vector places *pancakes* beside *pan*. Its usage vector is what the questions that
carry it say: the mean vector of those (training) questions, plus the mean name vector of the
tags it appears with. The two are blended per tag, the usage part weighted by
``weight * n / (n + prior)`` for a tag on ``n`` questions, so a tag seen once leans on its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from so_assets.tagtree.geometry import normalize_rows


@dataclass(frozen=True)
class TagUsage:
    """Per tag: summed question vectors, summed co-occurring name vectors, and their counts."""

    question_sums: np.ndarray  # [t, d]
    questions: np.ndarray  # [t] questions carrying the tag
    neighbour_sums: np.ndarray  # [t, d]
    neighbours: np.ndarray  # [t] co-occurring tag occurrences

    def vectors(self) -> np.ndarray:
        """[t, d] unit usage vectors (zero rows for tags on no question)."""
        content = normalize_rows(self.question_sums)
        company = normalize_rows(self.neighbour_sums)
        return normalize_rows(content + company)


def accumulate_usage(tags: Sequence[str], name_vectors: np.ndarray,
                     batches: Iterable[tuple[Sequence[Sequence[str]], np.ndarray]]
                     ) -> TagUsage:
    """Sum, per tag, the vectors of the questions carrying it and the name vectors of the tags
    beside it. ``batches`` yields (each question's tags, [n, d] question vectors); tags not in
    ``tags`` are ignored. Memory holds one batch and the [t, d] sums."""
    index = {tag: i for i, tag in enumerate(tags)}
    names = np.asarray(name_vectors, dtype=np.float32)
    t, d = names.shape
    question_sums = np.zeros((t, d), dtype=np.float32)
    neighbour_sums = np.zeros((t, d), dtype=np.float32)
    questions = np.zeros(t, dtype=np.int64)
    neighbours = np.zeros(t, dtype=np.int64)
    for question_tags, vectors in batches:
        rows, cols = [], []
        for row, tag_list in enumerate(question_tags):
            for col in dict.fromkeys(index[tag] for tag in tag_list if tag in index):
                rows.append(row)
                cols.append(col)
        if not rows:
            continue
        rows_a, cols_a = np.array(rows), np.array(cols)
        np.add.at(question_sums, cols_a, np.asarray(vectors, dtype=np.float32)[rows_a])
        np.add.at(questions, cols_a, 1)
        per_question = np.zeros((len(question_tags), d), dtype=np.float32)
        np.add.at(per_question, rows_a, names[cols_a])
        tags_on_question = np.bincount(rows_a, minlength=len(question_tags))
        np.add.at(neighbour_sums, cols_a, per_question[rows_a] - names[cols_a])
        np.add.at(neighbours, cols_a, tags_on_question[rows_a] - 1)
    return TagUsage(question_sums, questions, neighbour_sums, neighbours)


def blend(name_vectors: np.ndarray, usage: TagUsage, weight: float, prior: float
          ) -> np.ndarray:
    """[t, d] unit vectors: ``(1 - w) name + w usage`` with ``w = weight * n / (n + prior)``."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"usage weight must be in [0, 1], got {weight}")
    n = usage.questions.astype(np.float32)
    w = (weight * n / (n + prior))[:, None]
    return normalize_rows((1 - w) * normalize_rows(name_vectors) + w * usage.vectors())


def recall_at_k(tag_vectors: np.ndarray, question_vectors: np.ndarray,
                truth: Sequence[Sequence[int]], k: int = 5, batch: int = 2048) -> float:
    """Micro recall@k of ranking tags by cosine to each question: how well the vectors say
    which tags a question carries (the blend is chosen by this on validation questions)."""
    k = min(k, len(tag_vectors))
    hits = 0
    for lo in range(0, len(question_vectors), batch):
        scores = normalize_rows(question_vectors[lo : lo + batch]) @ tag_vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        hits += sum(len(set(row.tolist()) & set(t))
                    for row, t in zip(top, truth[lo : lo + batch], strict=True))
    return hits / max(sum(len(t) for t in truth), 1)


USAGE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The candidate usage weights when none is set."""


def choose_usage_weight(names: np.ndarray, usage: TagUsage, kept: np.ndarray,
                        candidates: Sequence[float], prior: float, questions: np.ndarray,
                        truth: Sequence[Sequence[int]]) -> tuple[float, dict[float, float]]:
    """Of ``candidates``, the weight whose kept-tag vectors (``kept``: a mask over every
    tag) rank the labelled ``questions``' own kept tags best (recall@5 by cosine; ties to the
    smaller weight), and each candidate's recall. With one candidate or no labelled question,
    the middle candidate, unscored (NaN)."""
    if len(candidates) == 1 or len(truth) == 0:
        chosen = candidates[len(candidates) // 2]
        return chosen, {chosen: float("nan")}
    recalls = {w: recall_at_k(blend(names, usage, w, prior)[kept], questions, truth)
               for w in candidates}
    return max(recalls, key=lambda w: (recalls[w], -w)), recalls
