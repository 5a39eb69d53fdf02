"""The seed's clustering comparison, measured on the same tag vectors.

Recursive spherical k-means (its depth-1 clusters) against scikit-learn's KMeans, Birch,
AgglomerativeClustering and HDBSCAN, and the seed's PCA -> UMAP -> HDBSCAN searched by Optuna
(an optional extra): time, peak traced memory, cosine silhouette, cluster
sizes, share of tags in noise or singleton clusters, and example clusters. An algorithm whose
known memory need exceeds the budget is reported as not run, with the reason.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from so_assets.evaluation.manifold_clustering import (
    ManifoldSearch,
    SearchBudget,
    missing_extra,
    search_manifold_clustering,
)
from so_assets.evaluation.plots import new_figure, new_figure_row, save_png
from so_assets.evaluation.report import Report, Table, escape

MANIFOLD = "PCA-UMAP-HDBSCAN (Optuna search)"


@dataclass
class ClusteringResult:
    name: str
    labels: np.ndarray | None = None
    seconds: float = 0.0
    peak_mb: float = 0.0
    skipped: str | None = None
    silhouette: float | None = None
    sizes: list[int] = field(default_factory=list)
    noise_or_singleton_share: float = 0.0
    examples: list[list[str]] = field(default_factory=list)
    search: ManifoldSearch | None = None


def measure(name: str, run: Callable[[], np.ndarray]) -> ClusteringResult:
    """Time and peak traced allocations of one clustering call."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = np.asarray(run())
    except MemoryError as exc:
        tracemalloc.stop()
        return ClusteringResult(name, skipped=f"ran out of memory: {exc}")
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return ClusteringResult(name, labels, seconds, peak / 2**20)


def compare_clusterings(vectors: np.ndarray, tags: list[str], counts: np.ndarray,
                        tree_labels: np.ndarray, tree_seconds: float, n_clusters: int,
                        memory_budget_gb: float = 4.0, silhouette_sample: int = 5000,
                        manifold: SearchBudget | None = None,
                        log: logging.Logger | None = None,
                        seed: int = 0) -> list[ClusteringResult]:
    """Run every algorithm on the same unit tag vectors; ``tree_labels`` are the depth-1
    clusters of the recursive spherical k-means, timed by the caller. With a ``manifold``
    budget, the PCA -> UMAP -> HDBSCAN search runs too (or is reported as not run when its
    extra is missing)."""
    from sklearn.cluster import HDBSCAN, AgglomerativeClustering, Birch, KMeans

    x = np.asarray(vectors, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n = len(x)
    pairwise_gb = n * (n - 1) / 2 * 8 / 2**30  # a condensed float64 distance matrix
    results = [ClusteringResult("recursive spherical k-means", tree_labels, tree_seconds)]
    results.append(measure("KMeans (Euclidean)", lambda: KMeans(
        n_clusters, n_init=3, random_state=seed).fit_predict(x)))
    results.append(measure("Birch", lambda: Birch(
        n_clusters=n_clusters, threshold=0.3).fit_predict(x)))
    if pairwise_gb > memory_budget_gb:
        reason = (f"needs a {pairwise_gb:.1f} GiB pairwise distance matrix for {n:,} tags, "
                  f"over the {memory_budget_gb} GiB budget")
        results.append(ClusteringResult("AgglomerativeClustering (average, cosine)",
                                        skipped=reason))
        results.append(ClusteringResult("HDBSCAN", skipped=reason))
    else:
        results.append(measure("AgglomerativeClustering (average, cosine)", lambda:
                               AgglomerativeClustering(n_clusters, metric="cosine",
                                                       linkage="average").fit_predict(x)))
        results.append(measure("HDBSCAN", lambda: HDBSCAN(
            min_cluster_size=max(2, min(5, n // 50)), copy=True).fit_predict(x)))
    if manifold is not None:
        results.append(_manifold_result(x, manifold, log or logging.getLogger(__name__), seed))
    rng = np.random.default_rng(seed)
    for result in results:
        if result.labels is not None:
            _describe(result, x, tags, counts, silhouette_sample, rng)
    return results


def _manifold_result(x: np.ndarray, budget: SearchBudget, log: logging.Logger, seed: int
                     ) -> ClusteringResult:
    reason = missing_extra() or (f"needs at least 10 tags, got {len(x)}" if len(x) < 10
                                 else None)
    if reason is not None:
        return ClusteringResult(MANIFOLD, skipped=reason)
    found: list[ManifoldSearch] = []

    def run() -> np.ndarray:
        found.append(search_manifold_clustering(x, budget, log, seed))
        return found[0].labels

    result = measure(MANIFOLD, run)
    result.search = found[0] if found else None
    return result


def _describe(result: ClusteringResult, x: np.ndarray, tags: list[str], counts: np.ndarray,
              sample: int, rng: np.random.Generator) -> None:
    from sklearn.metrics import silhouette_score

    labels = result.labels
    clustered = labels >= 0
    ids, sizes = np.unique(labels[clustered], return_counts=True)
    result.sizes = sorted(sizes.tolist(), reverse=True)
    singletons = np.isin(labels, ids[sizes == 1])
    result.noise_or_singleton_share = float(((~clustered) | singletons).mean())
    keep = np.flatnonzero(clustered)
    if len(keep) > sample:
        keep = rng.choice(keep, sample, replace=False)
    if 2 <= len(np.unique(labels[keep])) < len(keep):
        result.silhouette = float(silhouette_score(x[keep], labels[keep], metric="cosine"))
    for cluster in ids[np.argsort(-sizes)][:3]:
        members = np.flatnonzero(labels == cluster)
        top = members[np.argsort(-counts[members])][:8]
        result.examples.append([tags[i] for i in top])


def render_comparison(results: list[ClusteringResult], out_dir: Path) -> dict[str, Path]:
    """Cluster-size distributions (log scale) and a time / silhouette chart."""
    ran = [r for r in results if r.labels is not None]
    fig, ax = new_figure(8, 4.5)
    ax.boxplot([r.sizes or [0] for r in ran], orientation="horizontal",
               tick_labels=[r.name for r in ran])
    ax.set_xscale("log")
    ax.set_xlabel("tags per cluster (log)")
    ax.set_title("Cluster size distribution")
    sizes_path = save_png(fig, out_dir / "cluster_sizes.png")
    fig, (left, right) = new_figure_row(2)
    names = [r.name.split(" (")[0] for r in ran]
    left.barh(names, [r.seconds for r in ran], color="#3b75af")
    left.set_xlabel("seconds")
    left.set_title("Time")
    right.barh(names, [r.silhouette or 0 for r in ran], color="#519e3e")
    right.set_xlabel("silhouette (cosine)")
    right.set_title("Cluster quality")
    right.set_yticklabels([])
    quality_path = save_png(fig, out_dir / "time_and_silhouette.png")
    return {"cluster_sizes": sizes_path, "time_and_silhouette": quality_path}


@dataclass(frozen=True)
class MatcherHits:
    """The dual-encoder matcher on labelled questions: how often a true cluster ranks first,
    and among the top 5."""

    questions: int
    hit_at_1: float
    hit_at_5: float


def clustering_report(results: list[ClusteringResult], n_tags: int, matcher: MatcherHits | None,
                      out_dir: Path) -> Report:
    """The comparison table, example clusters, the matcher's hit rates and the plots."""
    report = Report("tag_clustering", "Tag clustering comparison")
    report.text(f"Tags clustered: {n_tags:,}")
    table = report.table("algorithms", Table(
        ["algorithm", "clusters", "seconds", "peak MB (traced)", "silhouette (cosine)",
         "median size", "largest", "noise or singleton"]), summary=True)
    for r in results:
        if r.labels is None:
            table.add(r.name, f"not run: {r.skipped}", "", "", "", "", "", "")
            continue
        table.add(r.name, len(r.sizes), r.seconds, round(r.peak_mb),
                  r.silhouette if r.silhouette is not None else float("nan"),
                  int(np.median(r.sizes)) if r.sizes else 0, r.sizes[0] if r.sizes else 0,
                  f"{r.noise_or_singleton_share:.1%}")
        if r.silhouette is not None:
            key = r.name.split(" (")[0].replace(" ", "_").lower()
            report.figures[f"silhouette_{key}"] = r.silhouette
    report.text("Largest clusters (most frequent tags first):\n\n" + "\n".join(
        f"- **{escape(r.name)}**: " + " / ".join(", ".join(escape(t) for t in e)
                                                for e in r.examples)
        for r in results if r.examples))
    if matcher is None or not matcher.questions:
        report.text("Dual-encoder matcher: no embedded, labelled questions yet.")
    else:
        report.text(f"Dual-encoder matcher (no training, cosine to cluster means) on "
                    f"{matcher.questions:,} labelled questions: a true cluster ranked first for "
                    f"{matcher.hit_at_1:.1%}, among the top 5 for {matcher.hit_at_5:.1%}.")
        report.figures |= {"matcher_hit_at_1": matcher.hit_at_1,
                           "matcher_hit_at_5": matcher.hit_at_5}
    for name, path in render_comparison(results, out_dir).items():
        report.plot(name, path)
    searched = next((r for r in results if r.search is not None), None)
    if searched is not None:
        _manifold_section(report, searched.search, results[0], out_dir)
    return report


def _manifold_section(report: Report, search: ManifoldSearch, tree: ClusteringResult,
                      out_dir: Path) -> None:
    """The search's best parameters and trials, and its clusters beside the tree's on a 2-D
    UMAP map of the tags."""
    best = search.best
    report.heading(f"{MANIFOLD}: the seed's other road")
    report.text(
        f"{len(search.trials)} Optuna (TPE) trials, each scored on the tag vectors: cosine "
        f"silhouette + Calinski-Harabasz squashed into [0, 1) as log1p(CH) / (1 + log1p(CH)) "
        f"- the share of tags in noise or tiny clusters. Best objective {best.objective:.3f}: "
        f"silhouette {best.silhouette:.3f}, Calinski-Harabasz {best.calinski_harabasz:.1f}, "
        f"{best.tiny_share:.1%} of tags in noise or tiny clusters, {best.clusters} clusters.")
    table = report.table("manifold_best_parameters", Table(["parameter", "value"], digits=3))
    for name, value in search.best_params.items():
        table.add(name, value)
    report.figures |= {"manifold_objective": best.objective, "manifold_trials":
                       len(search.trials), "manifold_clusters": best.clusters}
    for name, path in render_manifold(search, tree.labels, out_dir).items():
        report.plot(name, path)


def render_manifold(search: ManifoldSearch, tree_labels: np.ndarray, out_dir: Path
                    ) -> dict[str, Path]:
    """Each trial's objective with the best so far, and the tags on the 2-D UMAP map coloured
    by the tree's depth-1 clusters and by the search's clusters (noise grey)."""
    fig, ax = new_figure(7, 3.5)
    objectives = [t.objective for t in search.trials]
    ax.plot(range(1, len(objectives) + 1), objectives, "o", color="#3b75af", label="trial")
    ax.plot(range(1, len(objectives) + 1), np.maximum.accumulate(objectives), color="#c44e52",
            label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("objective")
    ax.set_title("Optuna search")
    ax.legend()
    paths = {"manifold_trials": save_png(fig, out_dir / "manifold_trials.png")}
    if search.projection is not None:
        fig, (left, right) = new_figure_row(2, 11, 5)
        xy = search.projection
        for ax, labels, title in ((left, tree_labels, "recursive spherical k-means"),
                                  (right, search.labels, MANIFOLD)):
            noise = labels < 0
            ax.scatter(xy[noise, 0], xy[noise, 1], s=4, color="#bbbbbb")
            ax.scatter(xy[~noise, 0], xy[~noise, 1], s=6, c=labels[~noise] % 20, cmap="tab20")
            ax.set_title(title)
            ax.set_xticks([])
            ax.set_yticks([])
        paths["manifold_map"] = save_png(fig, out_dir / "manifold_map.png")
    return paths
