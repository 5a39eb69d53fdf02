"""knn_votes scores queries a bounded block at a time, exactly up to a size and from an HNSW
graph past it: neither the blocks nor the graph may change what the votes are."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from so_assets.models.core import nearest
from so_assets.models.core.data import Inputs, LabelSpace
from so_assets.models.core.nearest import NeighbourIndex
from so_assets.models.registry import tag_model
from so_assets.models.tags import neighbours

LABELS = LabelSpace(["c0", "c1", "c2"], [f"t{i}" for i in range(9)], [i % 3 for i in range(9)])


def _inputs(rng: np.random.Generator, n: int) -> Inputs:
    return Inputs(question_ids=np.arange(n), titles=[""] * n, bodies=[""] * n,
                  title_vectors=rng.normal(size=(n, 6)).astype(np.float32),
                  body_vectors=rng.normal(size=(n, 6)).astype(np.float32))


def _topics(rng: np.random.Generator, n: int, dim: int = 48, topics: int = 60) -> np.ndarray:
    """Unit rows around a few dozen topic directions, as question vectors lie."""
    centres = rng.normal(size=(topics, dim))
    rows = centres[rng.integers(0, topics, n)] + 0.6 * rng.normal(size=(n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _knn(rng: np.random.Generator, train: Inputs) -> neighbours.KnnVotes:
    model = tag_model("knn_votes").with_params({"k": 4}).build(LABELS)
    model.index = NeighbourIndex(neighbours.question_vectors(train))
    model.clusters = (rng.random((len(train), 3)) < 0.4).astype(np.float32)
    model.tags = sparse.csr_matrix(rng.random((len(train), 9)) < 0.3, dtype=np.float32)
    return model


def test_votes_are_the_same_whatever_block_of_queries_is_scored_at_once(monkeypatch):
    rng = np.random.default_rng(5)
    model = _knn(rng, _inputs(rng, 40))
    queries = _inputs(rng, 23)
    whole = model.predict_scores(queries)
    monkeypatch.setattr(neighbours, "QUERY_BLOCK", 5)
    blocked = model.predict_scores(queries)
    np.testing.assert_allclose(blocked.tags, whole.tags, rtol=1e-6)
    np.testing.assert_allclose(blocked.clusters, whole.clusters, rtol=1e-6)
    # and each row is the similarity^4-weighted vote of its 4 nearest training questions
    similarity = neighbours.question_vectors(queries) @ model.index.vectors.T
    ranked = np.argsort(-similarity, axis=1)[:, :4]
    weights = np.take_along_axis(similarity, ranked, 1).clip(0) ** 4
    weights /= np.maximum(weights.sum(1, keepdims=True), 1e-9)
    expected = np.einsum("nk,nkl->nl", weights, model.tags.toarray()[ranked])
    np.testing.assert_allclose(blocked.tags, expected, rtol=1e-5, atol=1e-6)


def test_the_graph_finds_the_exact_neighbours_and_their_true_cosines():
    rng = np.random.default_rng(7)
    rows = _topics(rng, 6300)
    rows, queries = rows[:6000], rows[6000:]
    exact = NeighbourIndex(rows, exact_up_to=len(rows))
    graph = NeighbourIndex(rows, exact_up_to=1000)
    assert exact.exact and not graph.exact
    true_similarity, true_rows = exact.search(queries, 25)
    similarity, found = graph.search(queries, 25)
    recall = np.mean([len(set(a) & set(b)) / 25 for a, b in zip(found, true_rows, strict=True)])
    assert recall > 0.95, recall
    # each similarity is the returned row's cosine, not an approximation of it
    np.testing.assert_allclose(similarity, np.einsum("qd,qkd->qk", queries, rows[found]),
                               atol=1e-5)
    # and the graph misses only rows that are nearly as close as the k-th true neighbour
    assert np.all(similarity.min(1) >= true_similarity.min(1) - 0.05)


def test_k_past_the_index_size_returns_every_row():
    rng = np.random.default_rng(3)
    rows = _topics(rng, 30)
    for index in (NeighbourIndex(rows, exact_up_to=100), NeighbourIndex(rows, exact_up_to=5)):
        _, found = index.search(rows[:4], 50)
        assert found.shape == (4, 30)
        assert all(sorted(r) == list(range(30)) for r in found.tolist())


def test_a_saved_graph_reloads_to_the_same_votes(tmp_path, monkeypatch):
    rng = np.random.default_rng(11)
    monkeypatch.setattr(nearest, "EXACT_UP_TO", 100)
    model = _knn(rng, _inputs(rng, 400))
    assert not model.index.exact
    queries = _inputs(rng, 50)
    model.save_state(tmp_path)
    assert (tmp_path / neighbours.GRAPH_FILE).exists()
    reloaded = tag_model("knn_votes").with_params({"k": 4}).build(LABELS)
    reloaded.load_state(tmp_path)
    assert not reloaded.index.exact
    np.testing.assert_array_equal(reloaded.predict_scores(queries).tags,
                                  model.predict_scores(queries).tags)


def test_a_state_saved_without_a_graph_reloads_to_exact_search(tmp_path, monkeypatch):
    rng = np.random.default_rng(13)
    model = _knn(rng, _inputs(rng, 400))  # exact: under the default size
    model.save_state(tmp_path)
    assert not (tmp_path / neighbours.GRAPH_FILE).exists()
    monkeypatch.setattr(nearest, "EXACT_UP_TO", 100)
    reloaded = tag_model("knn_votes").with_params({"k": 4}).build(LABELS)
    reloaded.load_state(tmp_path)
    assert reloaded.index.exact


def test_a_query_without_neighbours_is_an_error_not_a_vote_of_the_last_row():
    rows = _topics(np.random.default_rng(17), 50)
    queries = rows[:3].copy()
    queries[1, 0] = np.nan
    with pytest.raises(ValueError, match="1 query vectors have no neighbour"):
        NeighbourIndex(rows).search(queries, 5)
