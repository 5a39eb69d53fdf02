"""Spherical k-means as a scikit-learn estimator, accelerated with cosine bounds.

Rows and centroids are unit vectors and the objective is the (weighted) sum of cosine
similarities between each row and its centroid. Seeding is spherical k-means++ (D = 1 - cos,
which is half the squared Euclidean distance between unit vectors) with greedy local trials.

Acceleration: the "Simplified Hamerly" bounds of Schubert, Lang and Feher (2021, "Accelerating
Spherical k-Means", SISAP), which keep per row a lower bound ``l`` on the similarity to its own
centroid and an upper bound ``u`` on the similarity to any other centroid. When centroids move
by angles θ (cos θ = p), the bounds are updated without touching the data:
``l ← cos(arccos l + θ_own) = l·p - √(1-l²)·√(1-p²)`` and
``u ← cos(max(0, arccos u - θ_max))``. A row whose ``l ≥ u`` cannot change cluster and is
skipped; the others first get an exact ``l`` and only then, if still needed, a full row of
similarities. Late iterations thus touch few rows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from so_assets.tagtree.geometry import normalize_rows


class SphericalKMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """K-means on the unit sphere, maximising the summed cosine similarity.

    Parameters
    ----------
    n_clusters : number of clusters.
    n_init : independent seedings; the run with the highest objective is kept.
    max_iter : iterations per run.
    tol : stop when the relative objective gain of an iteration is below ``tol``.
    random_state : seed or ``RandomState`` for the seeding.
    accelerate : use the cosine-bound acceleration (results equal the plain algorithm).

    Attributes
    ----------
    cluster_centers_ : [k, d] unit centroids. ``labels_`` : cluster of each training row.
    objective_ : weighted sum of cosine similarities to the assigned centroids.
    inertia_ : weighted sum of cosine distances (1 - cos), for KMeans-like use.
    n_iter_ : iterations of the best run. ``similarity_evaluations_`` : row-centroid dot
    products computed in the best run (what the acceleration saves).
    """

    def __init__(self, n_clusters: int = 8, *, n_init: int = 1, max_iter: int = 300,
                 tol: float = 1e-6, random_state=None, accelerate: bool = True) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.accelerate = accelerate

    # --------------------------------------------------------------------- API
    def fit(self, X, y=None, sample_weight=None) -> SphericalKMeans:
        """Cluster ``X`` (rows are normalised first)."""
        X = validate_data(self, X, dtype=[np.float64, np.float32], accept_sparse=False)
        self._check_params(X.shape[0])
        weights = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        unit = normalize_rows(X)
        rng = check_random_state(self.random_state)
        best = None
        for _ in range(self.n_init):
            centers = self._seed(unit, weights, rng)
            run = self._lloyd(unit, weights, centers)
            if best is None or run[2] > best[2]:
                best = run
        labels, centers, objective, n_iter, evaluations = best
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.objective_ = float(objective)
        self.inertia_ = float(weights.sum() - objective)
        self.n_iter_ = n_iter
        self.similarity_evaluations_ = evaluations
        return self

    def predict(self, X, sample_weight=None) -> np.ndarray:
        """Index of the most similar centroid for each row."""
        return self.similarity(X).argmax(axis=1)

    def transform(self, X) -> np.ndarray:
        """Cosine distances (1 - cos) from each row to each centroid."""
        return 1.0 - self.similarity(X)

    def similarity(self, X) -> np.ndarray:
        """Cosine similarities [n, k] between rows and centroids."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return normalize_rows(X) @ self.cluster_centers_.T.astype(X.dtype)

    def score(self, X, y=None, sample_weight=None) -> float:
        """Weighted sum of cosine similarities to the nearest centroid (higher is better)."""
        sims = self.similarity(X).max(axis=1)
        weights = _check_sample_weight(sample_weight, sims.reshape(-1, 1), dtype=sims.dtype)
        return float((weights * sims).sum())

    # --------------------------------------------------------------------- internals
    def _check_params(self, n_samples: int) -> None:
        if not isinstance(self.n_clusters, int | np.integer) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive integer, got {self.n_clusters!r}")
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")
        if self.n_init < 1 or self.max_iter < 1:
            raise ValueError("n_init and max_iter must be at least 1")

    def _seed(self, x: np.ndarray, w: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        n, k = x.shape[0], self.n_clusters
        trials = 2 + int(np.log(k))
        centers = np.empty((k, x.shape[1]), dtype=x.dtype)
        p = w / w.sum() if w.sum() > 0 else None
        first = rng.choice(n, p=p)
        centers[0] = x[first]
        closest = np.clip(1.0 - x @ x[first], 0, None)
        for c in range(1, k):
            mass = w * closest
            total = mass.sum()
            if total <= 0:  # every row sits on a centroid already: take any row
                candidates = rng.randint(0, n, size=trials)
            else:
                candidates = np.searchsorted(np.cumsum(mass), rng.uniform(size=trials) * total)
                candidates = np.minimum(candidates, n - 1)
            distances = np.clip(1.0 - x[candidates] @ x.T, 0, None)
            np.minimum(closest, distances, out=distances)
            best = int(np.argmin(distances @ w))
            centers[c] = x[candidates[best]]
            closest = distances[best]
        return normalize_rows(centers)

    def _lloyd(self, x: np.ndarray, w: np.ndarray, centers: np.ndarray):
        n, k = x.shape[0], self.n_clusters
        labels = np.zeros(n, dtype=np.intp)
        lower = np.zeros(n, dtype=x.dtype)
        upper = np.zeros(n, dtype=x.dtype)
        _reassign(x, centers, np.arange(n), labels, lower, upper)
        evaluations = n * k
        objective = -np.inf
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 (kept after the loop)
            sums = sp.csr_matrix((w, (labels, np.arange(n))), shape=(k, n)) @ x
            norms = np.linalg.norm(sums, axis=1)
            new_objective = float(norms.sum())
            new_centers = centers.copy()
            filled = norms > 0
            new_centers[filled] = sums[filled] / norms[filled, None]
            empty = np.flatnonzero(~filled)
            if len(empty):  # re-seed empty clusters with the worst-fitting rows
                worst = np.argsort(lower)[: len(empty)]
                new_centers[empty] = x[worst]
                upper[:] = 1.0  # a centroid jumped: every row must be re-checked
            moved = np.clip(np.einsum("ij,ij->i", centers, new_centers), -1.0, 1.0)
            centers = new_centers
            converged = (new_objective - objective) <= self.tol * abs(new_objective)
            objective = new_objective
            if converged and not len(empty):
                break
            if self.accelerate:
                lower = _rotate_lower(lower, moved[labels])
                upper = _rotate_upper(upper, float(moved.min()))
                todo = np.flatnonzero(lower < upper)
                if len(todo):
                    lower[todo] = _own_similarity(x, centers, labels, todo)
                    evaluations += len(todo)
                    todo = todo[lower[todo] < upper[todo]]
                if len(todo):
                    _reassign(x, centers, todo, labels, lower, upper)
                    evaluations += len(todo) * k
            else:
                _reassign(x, centers, np.arange(n), labels, lower, upper)
                evaluations += n * k
        own = _own_similarity(x, centers, labels, np.arange(n))
        return labels, centers, float((w * own).sum()), n_iter, evaluations


_CHUNK = 8192  # rows per block: memory stays O(chunk x (k + d)) beyond the data itself


def _own_similarity(x: np.ndarray, centers: np.ndarray, labels: np.ndarray, rows: np.ndarray
                    ) -> np.ndarray:
    """cos(x_i, c_{label_i}) for the given rows, computed block by block."""
    out = np.empty(len(rows), dtype=x.dtype)
    for lo in range(0, len(rows), _CHUNK):
        block = rows[lo : lo + _CHUNK]
        out[lo : lo + _CHUNK] = np.einsum("ij,ij->i", x[block], centers[labels[block]])
    return out


def _reassign(x: np.ndarray, centers: np.ndarray, rows: np.ndarray, labels: np.ndarray,
              lower: np.ndarray, upper: np.ndarray) -> None:
    """Exact best and second-best centroid of the given rows, in place, block by block."""
    for lo in range(0, len(rows), _CHUNK):
        block = rows[lo : lo + _CHUNK]
        labels[block], lower[block], upper[block] = _top_two(x[block] @ centers.T)


def _top_two(sims: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best index, best similarity and second-best similarity of each row."""
    labels = sims.argmax(axis=1)
    rows = np.arange(len(sims))
    best = sims[rows, labels].copy()
    if sims.shape[1] == 1:
        return labels, best, np.full_like(best, -1.0)
    masked = sims.copy()
    masked[rows, labels] = -np.inf
    return labels, best, masked.max(axis=1)


def _rotate_lower(lower: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """cos(arccos(l) + θ): the least similarity to a centroid that rotated by θ."""
    lower = np.clip(lower, -1.0, 1.0)
    value = lower * moved - np.sqrt((1 - lower**2) * (1 - moved**2))
    angle_sum = np.arccos(lower) + np.arccos(moved)
    return np.where(angle_sum >= np.pi, -1.0, value)


def _rotate_upper(upper: np.ndarray, moved: float) -> np.ndarray:
    """cos(max(0, arccos(u) - θ)): the most similarity to any centroid that rotated by ≤ θ."""
    upper = np.clip(upper, -1.0, 1.0)
    value = upper * moved + np.sqrt((1 - upper**2) * (1 - moved**2))
    return np.where(np.arccos(upper) <= np.arccos(moved), 1.0, value)
