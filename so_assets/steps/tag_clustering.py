"""tag_clustering_report: the tree's clusters against other clusterings on the same tag
vectors, the dual-encoder matcher's hit rates, and samples to judge by eye."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from so_assets.params import Params, param
from so_assets.steps.results import ReportResult, write_report
from so_assets.steps.tagtree import tree_vectors
from so_assets.storage.embedding_kinds import VECTORS
from so_assets.storage.stores import Stores
from so_assets.storage.tag_tables import read_cluster_labels, read_imputation, read_tree


@dataclass(frozen=True)
class TagClusteringParams(Params):
    manifold_trials: int = param(
        30, "Optuna trials of the seed's PCA -> UMAP -> HDBSCAN search (0: not run; needs the "
            "optional extra so_assets[manifold]).", ge=0)
    manifold_timeout_seconds: float = param(120.0, "The search stops after this long, "
                                                   "whatever trials are left.", gt=0)
    tiny_cluster_size: int = param(3, "Tags in clusters smaller than this count against the "
                                      "search's objective, as noise does.", ge=1)


def tag_clustering_report(stores: Stores, params: TagClusteringParams, log: logging.Logger
                          ) -> ReportResult:
    """The tree's depth-1 clusters against KMeans, Birch, Agglomerative, HDBSCAN and the
    searched PCA -> UMAP -> HDBSCAN on the same kept-tag vectors, and the dual-encoder
    matcher's hit rates on labelled questions."""
    from so_assets.evaluation.clustering_comparison import (
        MatcherHits,
        clustering_report,
        compare_clusterings,
    )
    from so_assets.evaluation.manifold_clustering import SearchBudget
    from so_assets.evaluation.tree_samples import sampled_clusters, sampled_imputations

    tree = read_tree(stores.questions)
    kept_tags = list(tree.tag_paths)
    vectors = tree_vectors(stores).select(kept_tags)
    counts = np.array([tree.tag_counts[t] for t in kept_tags])
    cluster_of = tree.cluster_of()
    results = compare_clusterings(vectors, kept_tags, counts,
                                  np.array([cluster_of[t] for t in kept_tags]),
                                  tree.build_seconds, len(tree.cluster_names),
                                  manifold=SearchBudget(params.manifold_trials,
                                                        params.manifold_timeout_seconds,
                                                        params.tiny_cluster_size)
                                  if params.manifold_trials else None, log=log)
    hits = MatcherHits(*_matcher_hits(stores, tree.cluster_names, tree.cluster_means))
    report = clustering_report(results, len(kept_tags), hits,
                               stores.reports_dir / "tag_clustering")
    report.heading("Samples to judge by eye")
    report.text(f"Tag vectors: name blended with usage on training questions, usage weight "
                f"{tree.params.get('usage_weight', 0.0):.2f} (chosen on validation unless set).")
    report.table("sampled_clusters", sampled_clusters(tree.tag_paths, tree.cluster_names,
                                                      tree.tag_counts))
    report.table("sampled_imputations", sampled_imputations(
        read_imputation(stores.questions),
        {tag: tree.cluster_names[c] for tag, c in cluster_of.items()}))
    return write_report(report, stores.reports_dir)


def _matcher_hits(stores: Stores, names: list[str], means: np.ndarray
                  ) -> tuple[int, float, float]:
    from so_assets.tagtree.matcher import DualEncoderMatcher

    matcher = DualEncoderMatcher.from_means(names, means)
    labels = read_cluster_labels(stores.questions)
    hit1 = hit5 = seen = 0
    for ids, arrays in stores.embeddings.iter_batches(VECTORS, ["title", "body"],
                                                      question_ids=labels):
        top = matcher.top_k(arrays["title"], arrays["body"], 5)
        for question_id, ranked in zip(ids, top, strict=True):
            truth = set(labels[int(question_id)])
            hit1 += ranked[0] in truth
            hit5 += bool(truth & set(ranked.tolist()))
            seen += 1
    return seen, hit1 / max(seen, 1), hit5 / max(seen, 1)
