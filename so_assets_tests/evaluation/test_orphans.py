"""Orphan tags predicted through their kept tag and their own vector; every tag counted."""

from __future__ import annotations

import numpy as np

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
IMPUTATION = [("servo", "robot"), ("shield", "arduino"), ("lonely", None)]


def split(directions, tag_lists) -> Questions:
    directions = np.asarray(directions, np.float32)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    kept = np.array([[t in tags for t in KEPT] for tags in tag_lists], np.float32)
    return Questions(kept, tag_lists, directions)


def test_an_orphan_scores_through_its_kept_tag_and_its_own_direction():
    candidates = OrphanCandidates.build(KEPT, IMPUTATION, TAGS, VECTORS)
    assert candidates.orphans == ["servo", "shield"]  # the unmapped one is no candidate
    questions = split([[1, 0, 0], [0, 1, 0]], [["robot", "servo"], ["arduino"]])
    kept_scores = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    scores = candidates.scores(kept_scores, questions.directions)
    np.testing.assert_allclose(scores, [[0.9, 0.0], [0.0, 0.8]], atol=1e-6)
    assert candidates.truth(questions.tag_lists).tolist() == [[1, 0], [0, 0]]
    # an orphan that is a label of its own is predicted directly, never again through its tag
    labelled = OrphanCandidates.build([*KEPT, "servo"], IMPUTATION, TAGS, VECTORS)
    assert labelled.orphans == ["shield"]


def test_the_threshold_opens_only_when_it_helps_every_tag_on_validation():
    candidates = OrphanCandidates.build(KEPT, IMPUTATION, TAGS, VECTORS)
    validation = split([[1, 0, 0], [1, 0.1, 0], [0, 1, 0]],
                       [["robot", "servo"], ["robot", "servo"], ["arduino"]])
    kept_scores = np.array([[0.9, 0.1], [0.8, 0.1], [0.1, 0.9]], np.float32)
    chosen = kept_scores > 0.5
    assert tuned_for(candidates, KEPT, validation, kept_scores, chosen).threshold < 0.8
    wrong = split([[1, 0, 0], [0, 1, 0], [0, 1, 0]], [["robot"], ["arduino"], ["arduino"]])
    assert tuned_for(candidates, KEPT, wrong, kept_scores, chosen).threshold == CLOSED


def test_every_tag_view_counts_tags_nothing_can_predict_as_missed():
    candidates = OrphanCandidates.build(KEPT, IMPUTATION, TAGS, VECTORS)
    candidates.threshold = 0.5
    test = split([[1, 0, 0]], [["robot", "servo", "lonely", "never-trained"]])
    truth, scores, chosen = all_tags_view(test, np.array([[0.9, 0.1]], np.float32),
                                          np.array([[True, False]]), candidates, KEPT)
    assert truth.sum() == 4 and truth.shape[1] == 2 + 2 + 2
    assert chosen.sum() == 2  # robot, and servo through it
    assert scores[0, 2] > 0.5
