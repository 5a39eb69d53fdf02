"""The seed's other road: PCA -> UMAP -> HDBSCAN over the tag vectors, its parameters chosen by
an Optuna search (TPE) for the highest cosine silhouette plus Calinski-Harabasz, less a penalty
for the tags left in noise or in tiny clusters.

The figures are taken on the tag vectors themselves, not on UMAP's projection, so they compare
with the other rows of the clustering report. ``umap-learn`` and ``optuna`` are the optional
extra ``so_assets[manifold]``; without it :func:`missing_extra` says what to install.
"""

from __future__ import annotations

import importlib.util
import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

EXTRA = "so_assets[manifold]"


@dataclass(frozen=True)
class TrialScore:
    """One parameter set's clustering, judged on the tag vectors."""

    objective: float
    silhouette: float
    calinski_harabasz: float
    tiny_share: float
    clusters: int


@dataclass(frozen=True)
class SearchBudget:
    """How long the search may run, and below what size a cluster counts as tiny."""

    trials: int = 30
    timeout_seconds: float = 300.0
    tiny_size: int = 3


@dataclass
class ManifoldSearch:
    """The best trial's labels (-1: noise) and parameters, every trial's score, and a 2-D UMAP
    projection of the tags (with the best neighbourhood) to draw them on."""

    labels: np.ndarray
    best_params: dict[str, float | int | str]
    best: TrialScore
    trials: list[TrialScore] = field(default_factory=list)
    projection: np.ndarray | None = None


def missing_extra() -> str | None:
    """Why the search cannot run here, or None when ``umap-learn`` and ``optuna`` are installed."""
    missing = [name for name, module in (("umap-learn", "umap"), ("optuna", "optuna"))
               if importlib.util.find_spec(module) is None]
    if not missing:
        return None
    return (f"needs the optional extra {EXTRA} ({', '.join(missing)} not installed): "
            f"pip install -e '.[manifold]'")


def score_clustering(x: np.ndarray, labels: np.ndarray, tiny_size: int,
                     sample: int = 5000, seed: int = 0) -> TrialScore:
    """Cosine silhouette plus Calinski-Harabasz squashed into [0, 1), less the share of tags in
    noise or in clusters under ``tiny_size`` tags; -1 and the rest zero below two clusters."""
    from sklearn.metrics import calinski_harabasz_score, silhouette_score

    ids, sizes = np.unique(labels[labels >= 0], return_counts=True)
    tiny = (labels < 0) | np.isin(labels, ids[sizes < tiny_size])
    kept = np.flatnonzero(~tiny)
    clusters = int((sizes >= tiny_size).sum())
    if clusters < 2 or clusters >= len(kept):
        return TrialScore(-1.0, 0.0, 0.0, float(tiny.mean()), clusters)
    chosen = kept
    if len(kept) > sample:
        chosen = np.random.default_rng(seed).choice(kept, sample, replace=False)
    silhouette = float(silhouette_score(x[chosen], labels[chosen], metric="cosine"))
    ch = float(calinski_harabasz_score(x[kept], labels[kept]))
    squashed = float(np.log1p(ch) / (1 + np.log1p(ch)))
    share = float(tiny.mean())
    return TrialScore(silhouette + squashed - share, silhouette, ch, share, clusters)


def _pca(x: np.ndarray, components: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(components, random_state=seed).fit_transform(x)


def _umap(x: np.ndarray, neighbors: int, min_dist: float, components: int, seed: int
          ) -> np.ndarray:
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap: "n_jobs overridden by setting random_state"
        return umap.UMAP(n_neighbors=neighbors, min_dist=min_dist, n_components=components,
                         random_state=seed).fit_transform(x)


def _cluster(x: np.ndarray, params: dict, seed: int) -> np.ndarray:
    """HDBSCAN labels of the UMAP projection of the PCA projection of ``x``."""
    from sklearn.cluster import HDBSCAN

    embedded = _umap(_pca(x, params["pca_components"], seed), params["umap_neighbors"],
                     params["umap_min_dist"], params["umap_components"], seed)
    return HDBSCAN(min_cluster_size=params["min_cluster_size"],
                   min_samples=params["min_samples"],
                   cluster_selection_method=params["selection"], copy=True).fit_predict(embedded)


def search_manifold_clustering(vectors: np.ndarray, budget: SearchBudget, log: logging.Logger,
                               seed: int = 0) -> ManifoldSearch:
    """Optuna's TPE search over PCA's, UMAP's and HDBSCAN's parameters on unit tag vectors,
    within ``budget`` (trials or seconds, whichever ends first); the best trial's clustering."""
    import optuna

    x = np.asarray(vectors, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n, dims = x.shape
    if n < 10:
        raise ValueError(f"PCA -> UMAP -> HDBSCAN needs at least 10 tags, got {n}")
    scores: list[TrialScore] = []
    labels_of: dict[int, np.ndarray] = {}
    started = time.perf_counter()

    def objective(trial: optuna.Trial) -> float:
        pca = trial.suggest_int("pca_components", min(5, dims, n - 1), min(100, dims, n - 1))
        params = {
            "pca_components": pca,
            "umap_neighbors": trial.suggest_int("umap_neighbors", 5, max(5, min(50, n // 4))),
            "umap_min_dist": trial.suggest_float("umap_min_dist", 0.0, 0.5),
            "umap_components": trial.suggest_int("umap_components", 2, max(2, min(15, pca))),
            "min_cluster_size": trial.suggest_int("min_cluster_size", 2, max(2, min(30, n // 10))),
            "min_samples": trial.suggest_int("min_samples", 1, 10),
            "selection": trial.suggest_categorical("selection", ["eom", "leaf"]),
        }
        labels_of[trial.number] = _cluster(x, params, seed)
        score = score_clustering(x, labels_of[trial.number], budget.tiny_size, seed=seed)
        scores.append(score)
        done, elapsed = len(scores), time.perf_counter() - started
        log.info("manifold search: trial %d/%d, objective %.3f (best %.3f), %d clusters, "
                 "%.1f s a trial, about %.0f s left", done, budget.trials, score.objective,
                 max(s.objective for s in scores), score.clusters, elapsed / done,
                 min((budget.trials - done) * elapsed / done,
                     max(budget.timeout_seconds - elapsed, 0)))
        return score.objective

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=budget.trials, timeout=budget.timeout_seconds)
    best = study.best_trial
    projection = _umap(_pca(x, best.params["pca_components"], seed),
                       best.params["umap_neighbors"], best.params["umap_min_dist"], 2, seed)
    return ManifoldSearch(labels_of[best.number], dict(best.params), scores[best.number],
                          scores, projection)
