"""Orphan tags predicted through their kept tag and their own vector; every tag counted."""

from __future__ import annotations

import numpy as np
import pytest

from so_assets.evaluation.orphans import (
    CLOSED,
    OrphanCandidates,
    Questions,
    all_tags_view,
    tuned_for,
)

KEPT = ["robot", "arduino"]
# "servo" (an orphan of robot) points along x, "shield" (of arduino) along y.
TAGS = ["robot", "arduino", "servo", "shield", "lonely"]
VECTORS = np.array([[1, 0.2, 0], [0.2, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
IMPUTATION = [("servo", 2, "robot"), ("shield", 1, "arduino"), ("lonely", 1, None)]
KEPT_COUNTS = np.array([4, 4])  # training questions of robot and arduino


def split(directions, tag_lists) -> Questions:
    directions = np.asarray(directions, np.float32)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    kept = np.array([[t in tags for t in KEPT] for tags in tag_lists], np.float32)
    return Questions(kept, tag_lists, directions)


def test_an_orphan_scores_through_its_kept_tag_its_share_of_it_and_its_own_direction():
    candidates = OrphanCandidates.build(KEPT, IMPUTATION, TAGS, VECTORS, KEPT_COUNTS)
    assert candidates.orphans == ["servo", "shield"]  # the unmapped one is no candidate
    np.testing.assert_allclose(candidates.share, [2 / 4, 1 / 4])
    questions = split([[1, 0, 0], [0, 1, 0]], [["robot", "servo"], ["arduino"]])
    kept_scores = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    scores = candidates.scores(kept_scores, questions.directions)
    np.testing.assert_allclose(scores, [[0.9 * 0.5, 0.0], [0.0, 0.8 * 0.25]], atol=1e-6)
    assert candidates.truth(questions.tag_lists).tolist() == [[1, 0], [0, 0]]
    # an orphan that is a label of its own is predicted directly, never again through its tag
    labelled = OrphanCandidates.build([*KEPT, "servo"], IMPUTATION, TAGS, VECTORS,
                                      np.array([4, 4, 2]))
    assert labelled.orphans == ["shield"]


def test_the_threshold_opens_only_when_it_helps_every_tag_on_validation():
    candidates = OrphanCandidates.build(KEPT, IMPUTATION, TAGS, VECTORS, KEPT_COUNTS)
    validation = split([[1, 0, 0], [1, 0.1, 0], [0, 1, 0]],
                       [["robot", "servo"], ["robot", "servo"], ["arduino"]])
    kept_scores = np.array([[0.9, 0.1], [0.8, 0.1], [0.1, 0.9]], np.float32)
    chosen = kept_scores > 0.5
    assert tuned_for(candidates, KEPT, validation, kept_scores, chosen).threshold < 0.8
    wrong = split([[1, 0, 0], [0, 1, 0], [0, 1, 0]], [["robot"], ["arduino"], ["arduino"]])
    assert tuned_for(candidates, KEPT, wrong, kept_scores, chosen).threshold == CLOSED


def test_every_tag_view_counts_tags_nothing_can_predict_as_missed():
    candidates = OrphanCandidates.build(KEPT, IMPUTATION, TAGS, VECTORS, KEPT_COUNTS)
    candidates.threshold = 0.4
    test = split([[1, 0, 0]], [["robot", "servo", "lonely", "never-trained"]])
    truth, scores, chosen = all_tags_view(test, np.array([[0.9, 0.1]], np.float32),
                                          np.array([[True, False]]), candidates, KEPT)
    assert truth.sum() == 4 and truth.shape[1] == 2 + 2 + 2
    assert chosen.sum() == 2  # robot, and servo through it
    assert scores[0, 2] == pytest.approx(0.45)


def test_an_orphan_of_a_sure_tag_ranks_below_the_questions_own_likely_tag():
    """``android`` is on every training question, so the model scores it 1: an orphan on 2 of
    its 1,000 questions that reads like the question must still rank below the question's
    likely ``gradle`` (0.3), or every ranking figure (P@k, R@5) loses that tag."""
    kept, names = ["android", "gradle"], ["android", "gradle", "kotlin-dsl"]
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]], np.float32)
    candidates = OrphanCandidates.build(kept, [("kotlin-dsl", 2, "android")], names, vectors,
                                        np.array([1000, 40]))
    test = Questions(np.array([[1, 1]], np.float32), [["android", "gradle"]],
                     np.array([[0.6, 0.8, 0]], np.float32))
    kept_scores = np.array([[1.0, 0.3]], np.float32)
    _, scores, _ = all_tags_view(test, kept_scores, kept_scores > 0.5, candidates, kept)
    assert scores[0].argsort()[::-1][:2].tolist() == [0, 1]  # android, gradle: not the orphan
    assert 0 < scores[0, 2] < 0.3


def _threshold_by_every_candidate(scores, truth, kept):
    """The rule the sweep must match: every true orphan's score tried in turn."""
    tp, predicted, actual = kept
    actual += float(truth.sum())
    best, threshold = 2 * tp / max(predicted + actual, 1.0), float("inf")
    candidates = np.unique(scores[truth > 0])
    for value in candidates[candidates > 0]:
        chosen = scores >= value
        hits = float((chosen & (truth > 0)).sum())
        f1 = 2 * (tp + hits) / max(predicted + float(chosen.sum()) + actual, 1.0)
        if f1 > best:
            best, threshold = f1, float(value)
    return best, threshold


@pytest.mark.parametrize("seed", range(6))
def test_the_threshold_sweep_picks_what_trying_every_candidate_picks(seed):
    """One sorted sweep replaces a pass over every (question, orphan) pair per candidate (at
    30,000 questions and 5,000 orphans that pass took minutes a model); ties and zero scores
    included, it must choose the same threshold and F1."""
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((60, 15)) * rng.integers(0, 2, (60, 15)), 2).astype(np.float32)
    truth = (rng.random((60, 15)) < 0.05 + 0.4 * scores).astype(np.float32)
    kept = (float(rng.integers(0, 40)), float(rng.integers(20, 80)), float(rng.integers(20, 80)))
    candidates = OrphanCandidates([f"o{i}" for i in range(15)], np.zeros(15, np.int64),
                                  np.eye(15, dtype=np.float32), np.ones(15, np.float32))
    f1 = candidates.tune(scores, truth, kept)
    expected_f1, expected_threshold = _threshold_by_every_candidate(scores, truth, kept)
    assert f1 == pytest.approx(expected_f1) and candidates.threshold == expected_threshold


@pytest.mark.parametrize("seed", range(8))
def test_tuning_from_counts_picks_the_best_threshold_of_the_every_tag_view(seed):
    """tuned_for counts instead of building validation's every-tag view (at 10,000 questions
    x 15,000 tag labels the view's copies took GBs): the threshold it picks must give the best
    micro-F1 of that view, the tags nothing can predict included."""
    from so_assets.evaluation.tag_metrics import micro_f1

    rng = np.random.default_rng(seed)
    kept = ["k0", "k1", "k2"]
    orphans = [f"o{i}" for i in range(8)]
    never = [f"u{i}" for i in range(int(rng.integers(1, 30)))]
    names = [*kept, *orphans, "unmapped"]
    candidates = OrphanCandidates.build(
        kept, [*((o, 1 + i, kept[i % 3]) for i, o in enumerate(orphans)), ("unmapped", 1, None)],
        names, rng.normal(size=(len(names), 4)).astype(np.float32), np.array([20, 30, 40]))
    tag_lists = [[t for t in [*kept, *orphans, "unmapped", *never] if rng.random() < 0.2]
                 for _ in range(80)]
    directions = rng.normal(size=(80, 4)).astype(np.float32)
    validation = Questions(np.array([[t in tags for t in kept] for tags in tag_lists]),
                           tag_lists, directions / np.linalg.norm(directions, axis=1,
                                                                  keepdims=True))
    kept_scores = np.round(rng.random((80, 3)), 2).astype(np.float32)
    chosen = kept_scores > rng.uniform(0.3, 0.9)
    tuned = tuned_for(candidates, kept, validation, kept_scores, chosen)

    def view_f1(threshold: float) -> float:
        trial = OrphanCandidates(candidates.orphans, candidates.target, candidates.vectors,
                                 candidates.share, threshold)
        truth, _, decided = all_tags_view(validation, kept_scores, chosen, trial, kept)
        return micro_f1(truth, decided)

    orphan_scores = candidates.scores(kept_scores, validation.directions)
    best = max(view_f1(t) for t in [CLOSED, *np.unique(orphan_scores[orphan_scores > 0])])
    assert view_f1(tuned.threshold) == pytest.approx(best)
