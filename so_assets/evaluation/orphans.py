"""Orphan tags as predictions: a rare tag is a candidate through the kept tag it was imputed
to and its own vector.

An orphan ``o`` imputed to the kept tag ``k`` scores
``score(k) * n(o) / n(k) * max(0, cos(question, o))`` for a question, ``n`` counting training
questions: the model must think the question is about ``k``; of ``k``'s questions, ``o`` is on
a share, P(o | k); and the question must read like the questions that carry ``o`` (its vector
blends name and usage, see :mod:`so_assets.tagtree.usage`). Without the share an orphan of a tag
the model is sure of (``android`` on the Android slice, on every question) outranked the
question's own likely tags in every ranking figure. One threshold for every orphan is tuned on
validation, as orphans are too rare for a threshold each; with no orphan on validation it stays
closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CLOSED = float("inf")


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass
class OrphanCandidates:
    """Mapped orphans: their names, the kept tag each was imputed to, their unit vectors, and
    each one's share of its kept tag's training questions."""

    orphans: list[str]
    target: np.ndarray  # [o] index of each orphan's kept tag in the label space
    vectors: np.ndarray  # [o, d]
    share: np.ndarray  # [o] the orphan's training questions / its kept tag's, at most 1
    threshold: float = CLOSED

    @classmethod
    def build(cls, kept_tags: Sequence[str],
              imputation: Sequence[tuple[str, int, str | None]], tags: Sequence[str],
              vectors: np.ndarray, kept_counts: np.ndarray) -> OrphanCandidates:
        """From (orphan, its training questions, kept tag or None) triples, every tag's vector
        and the training questions of each of ``kept_tags`` (``kept_counts``); unmapped
        orphans, orphans of tags outside ``kept_tags`` and orphans that are labels themselves
        are left out."""
        kept_index = {t: i for i, t in enumerate(kept_tags)}
        vector_index = {t: i for i, t in enumerate(tags)}
        mapped = [(o, n, kept_index[k]) for o, n, k in imputation
                  if k in kept_index and o in vector_index and o not in kept_index]
        rows = [vector_index[o] for o, _, _ in mapped]
        width = vectors.shape[1] if vectors.ndim == 2 else 0
        target = np.array([k for _, _, k in mapped], dtype=np.int64)
        counts = np.asarray(kept_counts, np.float64)[target]
        share = np.minimum(np.array([n for _, n, _ in mapped], np.float64)
                           / np.maximum(counts, 1.0), 1.0)
        return cls([o for o, _, _ in mapped], target,
                   _unit_rows(vectors[rows]) if rows else np.zeros((0, width), np.float32),
                   share.astype(np.float32))

    def scores(self, tag_scores: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """[n, o] each orphan's score on each question (``directions``: the questions' unit
        vectors)."""
        if not self.orphans or not len(directions):
            return np.zeros((len(directions), len(self.orphans)), np.float32)
        fit = np.clip(directions @ self.vectors.T, 0, None)
        return (tag_scores[:, self.target] * fit * self.share).astype(np.float32)

    def truth(self, tag_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """[n, o] bool: which orphans each question carries."""
        index = {o: i for i, o in enumerate(self.orphans)}
        out = np.zeros((len(tag_lists), len(self.orphans)), bool)
        for row, tags in enumerate(tag_lists):
            for tag in tags:
                if tag in index:
                    out[row, index[tag]] = True
        return out

    def tune(self, validation_scores: np.ndarray, validation_truth: np.ndarray,
             kept: tuple[float, float, float]) -> float:
        """The one threshold that gives the best micro-F1 over every tag on validation, the
        kept tags' decisions (``kept``: their true positives, predictions and true labels)
        included; closed when no threshold beats predicting no orphan."""
        tp, predicted, actual = kept
        actual += float(validation_truth.sum())
        best = 2 * tp / max(predicted + actual, 1.0)
        self.threshold = CLOSED
        # One sweep down the sorted positive scores instead of a pass over every (question,
        # orphan) pair per candidate: each candidate threshold (a true orphan's score) chooses
        # a prefix, whose size and hits are cumulative sums.
        flat = validation_scores.ravel()
        positive = flat > 0
        order = np.argsort(-flat[positive], kind="stable")
        values = flat[positive][order]
        hits = np.cumsum(validation_truth.ravel()[positive][order] > 0)
        if not len(values):
            return best
        ends = np.flatnonzero(np.r_[values[1:] != values[:-1], True])  # last of each tie
        group_hits = hits[ends] - np.r_[0, hits[ends[:-1]]]
        ends = ends[group_hits > 0]  # thresholds some true orphan scores exactly
        f1 = 2 * (tp + hits[ends]) / np.maximum(predicted + ends + 1 + actual, 1.0)
        if len(f1) and f1.max() > best:
            at = np.flatnonzero(f1 == f1.max())[-1]  # the lowest such threshold, as before
            best, self.threshold = float(f1[at]), float(values[ends[at]])
        return best

    def decide(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.threshold


@dataclass(frozen=True)
class Questions:
    """Labelled questions as the every-tag view needs them: their kept-tag indicators, every
    tag each carries and their unit vectors."""

    kept_truth: np.ndarray  # [n, t]
    tag_lists: Sequence[Sequence[str]]
    directions: np.ndarray  # [n, d]


def _unpredictable(questions: Questions, candidates: OrphanCandidates,
                   kept_tags: Sequence[str]) -> np.ndarray:
    """[n, u] bool: the questions' tags no model can predict (unmapped orphans, tags on no
    training question)."""
    known = {*kept_tags, *candidates.orphans}
    others = sorted({t for tags in questions.tag_lists for t in tags} - known)
    index = {t: i for i, t in enumerate(others)}
    out = np.zeros((len(questions.tag_lists), len(others)), bool)
    for row, tags in enumerate(questions.tag_lists):
        for tag in tags:
            if tag in index:
                out[row, index[tag]] = True
    return out


def all_tags_view(questions: Questions, kept_scores: np.ndarray, kept_chosen: np.ndarray,
                  candidates: OrphanCandidates, kept_tags: Sequence[str]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truth, scores and decisions over every tag of the questions: kept tags, mapped orphans
    (scored through ``candidates``) and the tags no model can predict, which count as
    missed."""
    unpredictable = _unpredictable(questions, candidates, kept_tags)
    orphan_scores = candidates.scores(kept_scores, questions.directions)
    truth = np.hstack([questions.kept_truth.astype(bool), candidates.truth(questions.tag_lists),
                       unpredictable])
    scores = np.hstack([kept_scores, orphan_scores, np.zeros(unpredictable.shape, np.float32)])
    chosen = np.hstack([kept_chosen, candidates.decide(orphan_scores),
                        np.zeros(unpredictable.shape, bool)])
    return truth, scores, chosen


def tuned_for(candidates: OrphanCandidates, kept_tags: Sequence[str], validation: Questions,
              kept_scores: np.ndarray, kept_chosen: np.ndarray) -> OrphanCandidates:
    """A copy of ``candidates`` with the threshold that suits one model's validation scores
    (from counts: the every-tag view of validation is never built)."""
    own = OrphanCandidates(candidates.orphans, candidates.target, candidates.vectors,
                           candidates.share)
    kept_truth = validation.kept_truth.astype(bool, copy=False)
    tp = float((kept_truth & kept_chosen).sum())  # the orphans closed: the kept tags alone
    actual = float(kept_truth.sum() + _unpredictable(validation, own, kept_tags).sum())
    own.tune(own.scores(kept_scores, validation.directions), own.truth(validation.tag_lists),
             (tp, float(kept_chosen.sum()), actual))
    return own


def all_tag_metrics(tuned: OrphanCandidates, kept_tags: Sequence[str], test: Questions,
                    test_scores: np.ndarray, test_chosen: np.ndarray) -> dict[str, float]:
    """Metrics over every tag of the test questions: the kept tags the model chose, orphans
    through their kept tag (``tuned``: the threshold :func:`tuned_for` chose on the model's
    validation scores), and the tags nothing can predict counted as missed."""
    from so_assets.evaluation.tag_metrics import multilabel_metrics

    truth, scores, chosen = all_tags_view(test, test_scores, test_chosen, tuned, kept_tags)
    return {**multilabel_metrics(truth, scores, chosen),
            "orphans_predicted": float(chosen[:, test.kept_truth.shape[1]:].sum()),
            "orphan_threshold": tuned.threshold}
