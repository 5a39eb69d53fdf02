"""knn_votes scores queries a bounded block at a time: the blocks must not change a vote."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from so_assets.models.core.data import Inputs, LabelSpace
from so_assets.models.registry import tag_model
from so_assets.models.tags import neighbours


def _inputs(rng: np.random.Generator, n: int) -> Inputs:
    return Inputs(question_ids=np.arange(n), titles=[""] * n, bodies=[""] * n,
                  title_vectors=rng.normal(size=(n, 6)).astype(np.float32),
                  body_vectors=rng.normal(size=(n, 6)).astype(np.float32))


def test_votes_are_the_same_whatever_block_of_queries_is_scored_at_once(monkeypatch):
    rng = np.random.default_rng(5)
    labels = LabelSpace(["c0", "c1", "c2"], [f"t{i}" for i in range(9)], [i % 3 for i in range(9)])
    model = tag_model("knn_votes").with_params({"k": 4}).build(labels)
    train = _inputs(rng, 40)
    model.vectors = neighbours.question_vectors(train)
    model.clusters = (rng.random((40, 3)) < 0.4).astype(np.float32)
    model.tags = sparse.csr_matrix(rng.random((40, 9)) < 0.3, dtype=np.float32)
    queries = _inputs(rng, 23)
    whole = model.predict_scores(queries)
    monkeypatch.setattr(neighbours, "SIMILARITY_CELLS", 3 * 40)  # three queries a block
    blocked = model.predict_scores(queries)
    np.testing.assert_allclose(blocked.tags, whole.tags, rtol=1e-6)
    np.testing.assert_allclose(blocked.clusters, whole.clusters, rtol=1e-6)
    # and each row is the similarity^4-weighted vote of its 4 nearest training questions
    similarity = neighbours.question_vectors(queries) @ model.vectors.T
    nearest = np.argsort(-similarity, axis=1)[:, :4]
    weights = np.take_along_axis(similarity, nearest, 1).clip(0) ** 4
    weights /= np.maximum(weights.sum(1, keepdims=True), 1e-9)
    expected = np.einsum("nk,nkl->nl", weights, model.tags.toarray()[nearest])
    np.testing.assert_allclose(blocked.tags, expected, rtol=1e-5, atol=1e-6)
