"""SphericalKMeans: the estimator contract, the objective, and the acceleration's exactness."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.utils.estimator_checks import check_estimator

from so_assets.tagtree.geometry import normalize_rows
from so_assets.tagtree.spherical_kmeans import SphericalKMeans


def clustered(n=3000, dim=32, k=12, noise=0.6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    truth = rng.integers(0, k, n)
    return normalize_rows(centres[truth] + noise * rng.normal(size=(n, dim))), truth


def summed_cosine(x, labels, centers):
    return float(np.einsum("ij,ij->i", x, normalize_rows(centers)[labels]).sum())


def test_passes_scikit_learn_check_estimator():
    # Sample weights are honoured exactly in the updates, but k-means++ draws its random seeds
    # differently for weights than for repeated rows, so that one equivalence check cannot
    # hold (scikit-learn's own KMeans has the same property).
    check_estimator(SphericalKMeans(n_clusters=3, random_state=0), expected_failed_checks={
        "check_sample_weight_equivalence_on_dense_data":
            "random seeding differs between weighted and repeated rows"})


def test_acceleration_gives_the_plain_algorithm_result_with_fewer_products():
    x, _ = clustered()
    fast = SphericalKMeans(12, random_state=3, accelerate=True).fit(x)
    plain = SphericalKMeans(12, random_state=3, accelerate=False).fit(x)
    assert np.array_equal(fast.labels_, plain.labels_)
    assert fast.objective_ == pytest.approx(plain.objective_, rel=1e-6)
    assert fast.similarity_evaluations_ < plain.similarity_evaluations_


def test_objective_at_least_that_of_kmeans_on_unit_vectors():
    x, _ = clustered(noise=1.0, seed=1)
    ours = SphericalKMeans(12, n_init=3, random_state=0).fit(x)
    theirs = KMeans(12, n_init=3, random_state=0).fit(x)
    assert ours.objective_ >= summed_cosine(x, theirs.labels_, theirs.cluster_centers_) - 1e-3
    assert ours.objective_ == pytest.approx(summed_cosine(x, ours.labels_, ours.cluster_centers_),
                                            rel=1e-5)


def test_centroids_are_unit_and_predict_matches_labels():
    x, _ = clustered()
    model = SphericalKMeans(12, random_state=0).fit(x * 7.5)  # scale does not matter
    assert np.allclose(np.linalg.norm(model.cluster_centers_, axis=1), 1)
    assert np.array_equal(model.predict(x), model.labels_)
    assert np.allclose(model.transform(x), 1 - x @ model.cluster_centers_.T, atol=1e-5)
    assert model.score(x) == pytest.approx(model.objective_, rel=1e-5)
    assert model.inertia_ == pytest.approx(len(x) - model.objective_, rel=1e-5)


def test_sample_weight_pulls_centroids():
    x = normalize_rows(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]]))
    heavy_first = SphericalKMeans(1, random_state=0).fit(x, sample_weight=[100, 1, 1, 1])
    assert heavy_first.cluster_centers_[0][0] > 0.95


def test_more_clusters_than_rows_is_a_clear_error():
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=5"):
        SphericalKMeans(5).fit(np.eye(3))
