"""Tag vectors that know how a tag is used: sums, the blend and the recall that picks it."""

from __future__ import annotations

import numpy as np
import pytest

from so_assets.tagtree.geometry import normalize_rows
from so_assets.tagtree.usage import accumulate_usage, blend, recall_at_k


def unit(*rows):
    return normalize_rows(np.array(rows, dtype=np.float32))


# Names that mislead: "pancakes" is spelled like "pan" but used like "baking".
TAGS = ["pan", "pancakes", "baking", "cookware"]
NAMES = unit([1, 0, 0, 0], [0.95, 0.3, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0])
COOKING, KITCHEN = unit([0, 1, 0.2, 0])[0], unit([0.1, 0, 1, 0])[0]


def questions():
    """Batches of (tags, question direction): pancake questions read like baking ones."""
    yield [["pancakes", "baking"], ["pancakes"], ["baking"]], np.stack([COOKING] * 3)
    yield [["pan", "cookware"], ["pan", "pan"], ["unknown-tag"]], np.stack([KITCHEN] * 3)


def test_usage_sums_question_vectors_and_neighbour_names():
    usage = accumulate_usage(TAGS, NAMES, questions())
    assert usage.questions.tolist() == [2, 2, 2, 1]  # a tag twice on a question counts once
    np.testing.assert_allclose(usage.question_sums[1], 2 * COOKING, atol=1e-6)
    np.testing.assert_allclose(usage.neighbour_sums[1], NAMES[2], atol=1e-6)  # beside baking
    np.testing.assert_allclose(usage.neighbour_sums[0], NAMES[3], atol=1e-6)
    assert usage.neighbours.tolist() == [1, 1, 1, 1]
    vectors = usage.vectors()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)


def test_blending_moves_a_misleading_name_towards_its_use():
    usage = accumulate_usage(TAGS, NAMES, questions())
    by_name = blend(NAMES, usage, 0.0, prior=1.0)
    np.testing.assert_allclose(by_name, NAMES, atol=1e-6)
    used = blend(NAMES, usage, 0.75, prior=1.0)
    pancakes = dict(zip(TAGS, used @ used[1], strict=True))
    assert pancakes["baking"] > pancakes["pan"]  # by name alone it is the other way round
    assert NAMES[1] @ NAMES[0] > NAMES[1] @ NAMES[2]


def test_a_tag_on_no_question_keeps_its_name_and_weights_are_checked():
    usage = accumulate_usage([*TAGS, "lonely"], np.vstack([NAMES, unit([0, 0, 0, 1])]),
                             questions())
    vectors = blend(np.vstack([NAMES, unit([0, 0, 0, 1])]), usage, 1.0, prior=3.0)
    np.testing.assert_allclose(vectors[4], [0, 0, 0, 1], atol=1e-6)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        blend(NAMES, usage, 1.5, prior=3.0)


def test_recall_at_k_counts_true_tags_among_the_nearest():
    tag_vectors = np.eye(3, dtype=np.float32)
    questions_ = np.array([[1, 0.5, 0], [0.1, 0, 1]], dtype=np.float32)
    assert recall_at_k(tag_vectors, questions_, [[0, 1], [0]], k=1) == pytest.approx(1 / 3)
    assert recall_at_k(tag_vectors, questions_, [[0, 1], [0]], k=2, batch=1) == 1.0
