"""New tags from the questions labelled since the model's cutoff: the votes of a question's
nearest such questions for the tags the model does not know, whatever index finds them."""

from __future__ import annotations

import numpy as np
import pytest

from so_assets.models.core import nearest
from so_assets.models.prediction.fresh_neighbours import new_tag_votes


def _reference(queries, index, index_tags, known, k, power, top):
    out = []
    for query in queries:
        similarity = index @ query
        order = np.argsort(-similarity)[:k]
        weights = similarity[order].clip(0) ** power
        votes: dict[str, float] = {}
        for weight, row in zip(weights / weights.sum(), order, strict=True):
            for tag in set(index_tags[row]) - known:
                votes[tag] = votes.get(tag, 0.0) + weight
        out.append(sorted(votes.items(), key=lambda kv: -kv[1])[:top])
    return out


@pytest.mark.parametrize("exact_up_to", [10_000, 50])  # exact search, then the graph
def test_votes_go_to_unknown_tags_of_the_nearest_questions(monkeypatch, exact_up_to):
    monkeypatch.setattr(nearest, "EXACT_UP_TO", exact_up_to)
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(6, 16))
    topic = rng.integers(0, 6, 400)
    rows = centres[topic] + 0.3 * rng.normal(size=(400, 16))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    index, queries = rows[:360], rows[360:]
    index_tags = [["known", f"new-{t}"] if i % 3 else ["known"] for i, t in
                  enumerate(topic[:360])]
    votes = new_tag_votes(queries, index, index_tags, {"known"}, k=10, power=4.0, top=2)
    expected = _reference(queries, index, index_tags, {"known"}, 10, 4.0, 2)
    for got, want in zip(votes, expected, strict=True):
        assert got[0][0] == want[0][0]  # the top new tag is the topic's own
        assert got[0][1] == pytest.approx(want[0][1], abs=0.05)
    assert all(row[0][0] == f"new-{t}" for row, t in zip(votes, topic[360:], strict=True))


def test_no_unknown_tag_in_the_index_gives_no_votes():
    rows = np.eye(4, dtype=np.float32)
    assert new_tag_votes(rows[:2], rows, [["a"]] * 4, {"a"}) == [[], []]
