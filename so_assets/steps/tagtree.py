"""tag_tree, tag_labels and tag_clustering_report."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from so_assets.evaluation.report import Table
from so_assets.steps.results import ReportResult, param, write_report
from so_assets.storage.embedding_kinds import VECTORS
from so_assets.storage.stores import Stores
from so_assets.storage.tag_tables import (
    TreeNodeRow,
    iter_question_tags,
    read_cluster_labels,
    read_tree,
    write_labels,
    write_tree,
)
from so_assets.tagtree.imputation import impute_orphans, is_kept


@dataclass(frozen=True)
class TagTreeParams:
    n_clusters: int = param(100, "Depth-1 label clusters (clamped to the number of kept tags).")
    branching: int = param(6, "Children of every node split below depth 1.")
    max_leaf_size: int = param(12, "Nodes with more tags than this are split again...")
    max_depth: int = param(4, "...while shallower than this.")
    min_tag_count: int = param(100, "Tags used by fewer questions are orphans, imputed to "
                                    "their nearest kept tag.")
    random_state: int = param(0, "Seed of the k-means seeding.")


@dataclass(frozen=True)
class TagTreeResult:
    kept_tags: int
    orphan_tags: int
    clusters: int
    clusters_requested: int
    notes: list[str]
    nodes: int
    max_depth: int
    build_seconds: float
    clusters_table: Table
    json: Path


def _all_tags(stores: Stores) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every tag of the questions, its vector and its question count."""
    counts = dict(stores.questions.tag_counts())
    tags = list(counts)
    vectors = stores.tag_vectors.load().select(tags)
    return tags, vectors, np.array([counts[t] for t in tags])


def build_tag_tree(stores: Stores, params: TagTreeParams, log: logging.Logger
                   ) -> TagTreeResult:
    """Recursive spherical k-means over the kept tags' vectors: depth-1 label clusters, every
    node's members, mean direction, representative and popular tags, every tag's path code."""
    from so_assets.tagtree.tree import build_tag_tree as build

    tags, vectors, counts = _all_tags(stores)
    kept = is_kept(counts, params.min_tag_count)
    if not kept.any():
        raise ValueError(f"no tag reaches min_tag_count={params.min_tag_count} (most used: "
                         f"{counts.max()}); lower min_tag_count")
    started = time.perf_counter()
    tree = build([t for t, k in zip(tags, kept, strict=True) if k], vectors[kept], counts[kept],
                 n_clusters=params.n_clusters, branching=params.branching,
                 max_leaf_size=params.max_leaf_size, max_depth=params.max_depth,
                 random_state=params.random_state)
    seconds = time.perf_counter() - started
    for note in tree.notes:
        log.warning(note)
    nodes = [TreeNodeRow(n.node_id, n.parent_id, n.depth, n.path, n.size, n.representative,
                         n.popular, [tree.tags[i] for i in n.members], n.mean.tolist())
             for n in tree.nodes]
    write_tree(stores.questions, nodes, tree.tag_path,
               dict(zip(tree.tags, tree.counts.tolist(), strict=True)), asdict(params),
               params.min_tag_count, seconds)
    export = stores.tag_tree_export
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(json.dumps({"params": asdict(params), "build_seconds": seconds,
                                  **tree.to_json()}, indent=1))
    table = Table(["cluster", "representative", "tags", "most popular"])
    for c in tree.clusters[:30]:
        table.add(str(c.path[0]), c.representative, c.size, ", ".join(c.popular))
    return TagTreeResult(int(kept.sum()), int((~kept).sum()), len(tree.clusters),
                         params.n_clusters, tree.notes, len(tree.nodes),
                         max(n.depth for n in tree.nodes), round(seconds, 2), table, export)


@dataclass(frozen=True)
class TagLabelsResult:
    questions: int
    imputed_only: int
    unlabelled: int
    kept_tags: int
    orphan_tags: int
    most_used_orphans: Table


def label_questions(stores: Stores, log: logging.Logger) -> TagLabelsResult:
    """Orphan tags imputed to their nearest kept tag (cosine stored); every question's kept-tag
    set and cluster label set (orphan-only questions take their tags' imputed targets)."""
    tree = read_tree(stores.questions)
    tags, vectors, counts = _all_tags(stores)
    imputation = impute_orphans(tags, vectors, counts, tree.min_tag_count)
    cluster_of = tree.cluster_of()
    count_of = dict(zip(tags, counts.tolist(), strict=True))
    stats = {"questions": 0, "imputed_only": 0, "unlabelled": 0}

    def labels():
        for batch in iter_question_tags(stores.questions):
            for question_id, question_tags in batch:
                kept, clusters, imputed = imputation.labels_for(question_tags, cluster_of)
                stats["questions"] += 1
                stats["imputed_only"] += imputed
                stats["unlabelled"] += not clusters
                yield question_id, kept, clusters, imputed

    orphans = [(t, count_of.get(t, 0), imputation.orphan_target[t],
                imputation.orphan_similarity[t]) for t in sorted(imputation.orphan_target)]
    written = write_labels(stores.questions, orphans, labels())
    log.info("labelled %d questions (%d only through imputed tags)", written,
             stats["imputed_only"])
    table = Table(["orphan", "-> kept tag", "cosine"], digits=2)
    for tag in sorted(imputation.orphan_target, key=lambda t: -count_of[t])[:15]:
        table.add(tag, imputation.orphan_target[tag], imputation.orphan_similarity[tag])
    return TagLabelsResult(written, stats["imputed_only"], stats["unlabelled"],
                           len(imputation.kept), len(imputation.orphan_target), table)


def tag_clustering_report(stores: Stores) -> ReportResult:
    """The tree's depth-1 clusters against KMeans, Birch, Agglomerative and HDBSCAN on the same
    kept-tag vectors, and the dual-encoder matcher's hit rates on labelled questions."""
    from so_assets.evaluation.clustering_comparison import (
        MatcherHits,
        clustering_report,
        compare_clusterings,
    )

    tree = read_tree(stores.questions)
    kept_tags = list(tree.tag_paths)
    vectors = stores.tag_vectors.load().select(kept_tags)
    counts = np.array([tree.tag_counts[t] for t in kept_tags])
    cluster_of = tree.cluster_of()
    results = compare_clusterings(vectors, kept_tags, counts,
                                  np.array([cluster_of[t] for t in kept_tags]),
                                  tree.build_seconds, len(tree.cluster_names))
    hits = MatcherHits(*_matcher_hits(stores, tree.cluster_names, tree.cluster_means))
    report = clustering_report(results, len(kept_tags), hits,
                               stores.reports_dir / "tag_clustering")
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
