"""The seed's PCA -> UMAP -> HDBSCAN road with its Optuna search, on planted clusters."""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pytest

from so_assets.evaluation.clustering_comparison import (
    MANIFOLD,
    clustering_report,
    compare_clusterings,
)
from so_assets.evaluation.manifold_clustering import (
    SearchBudget,
    missing_extra,
    score_clustering,
    search_manifold_clustering,
)

needs_extra = pytest.mark.skipif(missing_extra() is not None, reason=str(missing_extra()))


def planted(n_clusters: int = 5, per_cluster: int = 40, dims: int = 64, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors scattered tightly around ``n_clusters`` random directions."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dims))
    truth = np.repeat(np.arange(n_clusters), per_cluster)
    x = centres[truth] + 0.15 * rng.normal(size=(len(truth), dims))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), truth


def test_the_objective_rewards_the_planted_clusters_and_penalises_noise():
    x, truth = planted()
    right = score_clustering(x, truth, tiny_size=3)
    shuffled = score_clustering(x, np.random.default_rng(1).permutation(truth), tiny_size=3)
    noisy = truth.copy()
    noisy[::2] = -1
    half_noise = score_clustering(x, noisy, tiny_size=3)
    assert right.objective > half_noise.objective > shuffled.objective
    assert right.clusters == 5 and right.tiny_share == 0 and right.silhouette > 0.5
    assert half_noise.tiny_share == pytest.approx(0.5)
    singletons = score_clustering(x, np.arange(len(x)), tiny_size=3)
    assert singletons.objective == -1 and singletons.tiny_share == 1


@needs_extra
def test_the_search_finds_planted_clusters(caplog):
    from sklearn.metrics import adjusted_rand_score

    x, truth = planted()
    with caplog.at_level(logging.INFO):
        found = search_manifold_clustering(x, SearchBudget(trials=8), logging.getLogger("t"))
    assert len(found.trials) == 8 and found.best.objective == max(
        t.objective for t in found.trials)
    assert adjusted_rand_score(truth[found.labels >= 0], found.labels[found.labels >= 0]) > 0.9
    assert found.projection.shape == (len(x), 2)
    assert {"pca_components", "umap_neighbors", "min_cluster_size"} <= set(found.best_params)
    assert "manifold search: trial 8/8" in caplog.text and "s left" in caplog.text


@needs_extra
def test_the_report_shows_the_search_beside_the_tree(tmp_path):
    x, truth = planted()
    tags = [f"tag-{i}" for i in range(len(x))]
    results = compare_clusterings(x, tags, np.ones(len(x)), truth, 0.1, 5,
                                  manifold=SearchBudget(trials=3))
    searched = next(r for r in results if r.name == MANIFOLD)
    assert searched.search is not None and searched.silhouette is not None
    report = clustering_report(results, len(x), None, tmp_path)
    text = report.markdown()
    assert MANIFOLD in text and "3 Optuna (TPE) trials" in text
    assert (tmp_path / "manifold_map.png").stat().st_size > 0
    assert (tmp_path / "manifold_trials.png").stat().st_size > 0
    assert report.figures["manifold_trials"] == 3


def test_without_the_extra_the_row_says_what_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "umap" else real_find_spec(name, *a))
    x, truth = planted()
    results = compare_clusterings(x, [str(i) for i in range(len(x))], np.ones(len(x)), truth,
                                  0.1, 5, manifold=SearchBudget(trials=3))
    row = next(r for r in results if r.name == MANIFOLD)
    assert row.labels is None
    assert "so_assets[manifold]" in row.skipped and "umap-learn" in row.skipped
