"""SphericalKMeans against scikit-learn KMeans, and the tag-clustering comparison on real tags.

Part 1: both estimators on the same unit vectors (20,000 x 384 and 20,000 x 1,024 clustered
data, and the real tag vectors of ../shared's three Stack Exchange sites when present), k = 100,
the same n_init, each run in a fresh process: time, peak RSS growth and the final summed cosine
similarity, printed as ratios. Part 2: the recursive tag tree and every clustering algorithm on
the real tags, written to data/reports/benchmarks/real_tag_clustering.md.

    bash benchmarks/run.sh   (all benchmarks)   or   .venv/bin/python benchmarks/clustering.py
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
KAGGLE = REPO.parent / "shared" / "data" / "real" / "stackexchange-tags-kaggle"
SITES = ("biology", "crypto", "robotics")
LOG = logging.getLogger("benchmarks.clustering")


def clustered_unit_vectors(n: int, dim: int, clusters: int, seed: int) -> np.ndarray:
    """Random-but-clustered unit vectors: Gaussian blobs of uneven size around random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    sizes = rng.dirichlet(np.full(clusters, 2.0))
    x = centres[rng.choice(clusters, n, p=sizes)] + 0.9 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def real_tags() -> tuple[list[str], np.ndarray] | None:
    """Every tag of the three Kaggle sites with its question count (None without ../shared)."""
    if not KAGGLE.exists():
        return None
    counts: Counter[str] = Counter()
    for site in SITES:
        with zipfile.ZipFile(KAGGLE / f"{site}.csv.zip") as archive, \
                archive.open(f"{site}.csv") as raw:
            for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
                counts.update(set(row["tags"].split()))
    tags = sorted(counts, key=lambda t: (-counts[t], t))
    return tags, np.array([counts[t] for t in tags])


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(method: str, data: Path, k: int, n_init: int, out: Path) -> None:
    x = np.load(data)
    before = rss_mb()
    started = time.perf_counter()
    if method == "SphericalKMeans":
        from so_assets.tagtree.spherical_kmeans import SphericalKMeans

        model = SphericalKMeans(k, n_init=n_init, random_state=0).fit(x)
        centers, labels, iters = model.cluster_centers_, model.labels_, model.n_iter_
    else:
        from sklearn.cluster import KMeans

        model = KMeans(k, n_init=n_init, random_state=0).fit(x)
        centers, labels, iters = model.cluster_centers_, model.labels_, model.n_iter_
    seconds = time.perf_counter() - started
    unit = centers / np.linalg.norm(centers, axis=1, keepdims=True)
    objective = float(np.einsum("ij,ij->i", x, unit[labels]).sum())
    out.write_text(json.dumps({"seconds": seconds, "objective": objective,
                               "rss_growth_mb": rss_mb() - before, "n_iter": int(iters)}))


def compare_estimators(name: str, x: np.ndarray, k: int, n_init: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "x.npy"
        np.save(data, x)
        runs = {}
        for method in ("KMeans", "SphericalKMeans"):
            out = Path(tmp) / f"{method}.json"
            subprocess.run([sys.executable, __file__, "--worker", method, "--data", str(data),
                            "--k", str(k), "--n-init", str(n_init), "--out", str(out)],
                           check=True)
            runs[method] = json.loads(out.read_text())
    ours, theirs = runs["SphericalKMeans"], runs["KMeans"]
    print(f"{name:<34}{theirs['seconds']:>9.2f}{ours['seconds']:>9.2f}"
          f"{theirs['seconds'] / ours['seconds']:>8.2f}x"
          f"{theirs['rss_growth_mb']:>9.0f}{ours['rss_growth_mb']:>9.0f}"
          f"{theirs['objective']:>12.1f}{ours['objective']:>12.1f}"
          f"{ours['objective'] / theirs['objective']:>9.4f}")


def real_tag_report(tags: list[str], counts: np.ndarray, vectors: np.ndarray,
                    min_tag_count: int, k: int, manifold_trials: int):
    """The tree and every algorithm on the real tags, as a report under data/reports/."""
    from so_assets.evaluation.clustering_comparison import clustering_report, compare_clusterings
    from so_assets.evaluation.manifold_clustering import SearchBudget
    from so_assets.evaluation.report import Table
    from so_assets.tagtree.imputation import impute_orphans, is_kept
    from so_assets.tagtree.tree import build_tag_tree

    kept = is_kept(counts, min_tag_count)
    kept_tags = [t for t, keep in zip(tags, kept, strict=True) if keep]
    started = time.perf_counter()
    tree = build_tag_tree(kept_tags, vectors[kept], counts[kept], n_clusters=k)
    seconds = time.perf_counter() - started
    cluster_of = tree.cluster_of()
    results = compare_clusterings(vectors[kept], kept_tags, counts[kept],
                                  np.array([cluster_of[t] for t in kept_tags]), seconds, k,
                                  manifold=SearchBudget(manifold_trials, timeout_seconds=900)
                                  if manifold_trials else None, log=LOG)
    imputation = impute_orphans(tags, vectors, counts, min_tag_count)
    out_dir = REPO / "data" / "reports" / "benchmarks"
    report = clustering_report(results, len(kept_tags), None, out_dir)
    report.name, report.title = "real_tag_clustering", (
        f"Real tags: {', '.join(SITES)}.stackexchange (Kaggle): {len(tags)} tags; kept "
        f"(>= {min_tag_count} questions): {len(kept_tags)}; orphans imputed: "
        f"{len(imputation.orphan_target)}")
    report.heading("Label clusters (largest first)")
    clusters = report.table("clusters", Table(["cluster", "representative", "tags",
                                               "most popular"]))
    for c in sorted(tree.clusters, key=lambda c: -c.size)[:25]:
        clusters.add(str(c.path[0]), c.representative, c.size, ", ".join(c.popular))
    report.heading("Most used orphans and their imputed tag")
    orphans = report.table("orphans", Table(["orphan", "questions", "-> kept tag", "cosine"],
                                            digits=2))
    for t in sorted(imputation.orphan_target, key=lambda t: -counts[tags.index(t)])[:15]:
        orphans.add(t, int(counts[tags.index(t)]), imputation.orphan_target[t],
                    imputation.orphan_similarity[t])
    report.write(out_dir / "real_tag_clustering.md")
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--n-init", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--min-tag-count", type=int, default=20)
    parser.add_argument("--manifold-trials", type=int, default=30,
                        help="Optuna trials of PCA -> UMAP -> HDBSCAN (0: skip it)")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.k, args.n_init, args.out)
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(f"k = {args.k}, n_init = {args.n_init} for both, random_state 0, each run in a fresh "
          "process; objective = summed cosine similarity to the (normalised) centroids.\n")
    print(f"{'data':<34}{'KMeans s':>9}{'ours s':>9}{'speed':>9}{'KM MB':>9}{'ours MB':>9}"
          f"{'KM obj':>12}{'ours obj':>12}{'obj ratio':>9}")
    compare_estimators("clustered 20,000 x 384", clustered_unit_vectors(20_000, 384, 100, 0),
                       args.k, args.n_init)
    compare_estimators("clustered 20,000 x 1,024", clustered_unit_vectors(20_000, 1024, 100, 1),
                       args.k, args.n_init)
    real = real_tags()
    if real is None:
        print("real tags: ../shared is absent, skipped")
        return
    tags, counts = real
    from so_assets.embedding.encoder import TextEncoder

    vectors = TextEncoder().encode(tags, max_length=32).vectors
    compare_estimators(f"real tags {len(tags)} x {vectors.shape[1]} (MiniLM)", vectors,
                       args.k, args.n_init)
    report = real_tag_report(tags, counts, vectors, args.min_tag_count, args.k,
                             args.manifold_trials)
    print("\nreal-tag clustering comparison: data/reports/benchmarks/real_tag_clustering.md")
    print(report.summary_text())


if __name__ == "__main__":
    main()
