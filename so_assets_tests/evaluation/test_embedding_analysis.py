from datetime import date

import numpy as np
import pytest

from so_assets.evaluation.embedding_analysis import analyse_field, analysis_report
from so_assets.storage.embedding_store import EmbeddingStore


def clustered_unit_vectors(n: int, dim: int, clusters: int, noise: float, seed: int):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + noise * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_analysis_on_streamed_partitions(tmp_path):
    store = EmbeddingStore(tmp_path, "slug")
    vectors = clustered_unit_vectors(600, 16, 3, 0.05, 0)
    for i, day in enumerate((date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3))):
        rows = slice(200 * i, 200 * (i + 1))
        store.write("question_embeddings", day, {
            "question_id": np.arange(600)[rows], "title": vectors[rows]}, {})

    def batches():
        for ids, arrays in store.iter_batches("question_embeddings", ["title"]):
            yield ids, arrays["title"]

    result = analyse_field("title", batches, nn_sample=50, pca_sample=300)
    assert len(result.nn_cosine) == 50 and np.all(result.nn_cosine > 0.95)  # tight clusters
    brute = vectors @ vectors.T
    np.fill_diagonal(brute, -1)
    expected = brute[result.nn_question_ids].max(axis=1)
    assert result.nn_cosine == pytest.approx(expected, abs=1e-5)
    assert result.components_for[0.5] <= 3 and result.components_for[0.9] <= 16
    assert np.all(np.diff(result.cumulative_variance) >= -1e-7)
    report = analysis_report([result], tmp_path / "plots")
    assert len(report.plots) == 2
    assert all(p.path.read_bytes()[:4] == b"\x89PNG" for p in report.plots)
    assert report.figures["title_components_for_50pct"] == result.components_for[0.5]
