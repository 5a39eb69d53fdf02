"""tag_tree and tag_labels: the recursive spherical k-means over the kept tags, and every
question's cluster and kept-tag labels (orphans imputed)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from so_assets.evaluation.report import Table
from so_assets.params import Params, param
from so_assets.storage.embedding_kinds import VECTORS
from so_assets.storage.stores import Stores
from so_assets.storage.tag_tables import (
    TreeNodeRow,
    iter_day_question_tags,
    iter_question_tags,
    read_tree,
    write_labels,
    write_tree,
)
from so_assets.tagtree.geometry import question_directions
from so_assets.tagtree.imputation import impute_orphans, is_kept, labelled_orphans
from so_assets.tagtree.usage import (
    USAGE_WEIGHTS,
    TagUsage,
    accumulate_usage,
    blend,
    choose_usage_weight,
)

if TYPE_CHECKING:  # h5py loads only when a step opens the HDF5 files
    from so_assets.storage.tag_vector_store import TagVectors


@dataclass(frozen=True)
class TagTreeParams(Params):
    n_clusters: int = param(100, "Depth-1 label clusters (at most the number of kept tags: "
                                 "fewer are made, and said, when fewer tags are kept).", ge=2)
    branching: int = param(6, "Children of every node split below depth 1.", ge=2)
    max_leaf_size: int = param(12, "Nodes with more tags than this are split again...", ge=1)
    max_depth: int = param(4, "...while shallower than this.", ge=1)
    min_tag_count: int = param(100, "Tags on fewer training questions are orphans, imputed to "
                                    "their nearest kept tag.", ge=1)
    usage_weight: float | None = param(
        None, "Weight in [0, 1] of a tag's usage vector (its training questions and "
        "co-occurring tags) against its name vector. Unset: of 0, 0.25, 0.5, 0.75 and 1, the "
        "one whose vectors rank validation questions' kept tags best (recall@5).", ge=0, le=1)
    usage_prior: float = param(3.0, "Training questions at which a tag's usage gets half of "
                                    "its weight: a tag seen once leans on its name.", ge=0)
    min_similarity: float = param(0.5, "Orphans less similar than this to every kept tag are "
                                       "left unmapped (and counted) instead of imputed.",
                                  ge=-1, le=1)
    min_label_count: int = param(
        3, "Orphans on at least this many training questions are tag labels of their own, in "
           "the cluster and leaf of the kept tag they are imputed to (the tree is built from "
           "the kept tags alone); rarer ones are reached through that kept tag only.", ge=1)
    random_state: int = param(0, "Seed of the k-means seeding.", ge=0)


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
    usage_weight: float
    usage_weights_table: Table
    clusters_table: Table
    json: Path


VALIDATION_SAMPLE = 20_000  # validation questions that choose the usage weight


def _question_batches(stores: Stores, split: str
                      ) -> Iterator[tuple[list[list[str]], np.ndarray]]:
    """(tags, [n, d] question directions) of the questions of ``split``, a batch at a time
    (each batch's vectors read from its own day's partition)."""
    embedded = set(stores.embeddings.days(VECTORS))
    for day, batch in iter_day_question_tags(stores.questions, split):
        if day not in embedded:
            continue
        tags_of = dict(batch)
        for ids, arrays in stores.embeddings.iter_batches(VECTORS, ["title", "body"],
                                                          question_ids=tags_of, days=[day]):
            yield ([tags_of[int(i)] for i in ids],
                   question_directions(arrays["title"], arrays["body"]))


def _validation_truth(stores: Stores, kept: list[str]
                      ) -> tuple[np.ndarray, list[list[int]]]:
    """Up to ``VALIDATION_SAMPLE`` validation questions with a kept tag: directions, kept tags."""
    index = {t: i for i, t in enumerate(kept)}
    vectors, truth = [], []
    for tags, directions in _question_batches(stores, "validation"):
        for question_tags, direction in zip(tags, directions, strict=True):
            if (own := [index[t] for t in question_tags if t in index]) and \
                    len(truth) < VALIDATION_SAMPLE:
                vectors.append(direction)
                truth.append(own)
    return np.array(vectors, dtype=np.float32), truth


def _choose_usage_weight(stores: Stores, names: np.ndarray, usage: TagUsage, kept: np.ndarray,
                         kept_tags: list[str], params: TagTreeParams, log: logging.Logger
                         ) -> tuple[float, Table]:
    """The candidate weight whose kept-tag vectors rank validation questions' tags best."""
    candidates = USAGE_WEIGHTS if params.usage_weight is None else (params.usage_weight,)
    questions, truth = (_validation_truth(stores, kept_tags) if len(candidates) > 1
                        else (np.zeros((0, names.shape[1]), np.float32), []))
    if len(candidates) > 1 and not truth:
        log.warning("no validation question has a kept tag: usage weight %.2f without a "
                    "choice", candidates[len(candidates) // 2])
    chosen, recalls = choose_usage_weight(names, usage, kept, candidates, params.usage_prior,
                                          questions, truth)
    if len(recalls) > 1:
        log.info("usage weight %.2f chosen on %d validation questions (recall@5 %.3f; name "
                 "alone %.3f)", chosen, len(truth), recalls[chosen],
                 recalls.get(0.0, float("nan")))
    table = Table(["usage weight", "validation recall@5 (kept tags by cosine)"], digits=3)
    for w, recall in recalls.items():
        table.add(w, recall)
    return chosen, table


def tag_tree(stores: Stores, params: TagTreeParams, log: logging.Logger
                   ) -> TagTreeResult:
    """Every tag's vector (name blended with usage on the training split), the kept tags (by
    training questions), and over their vectors the recursive spherical k-means: depth-1 label
    clusters, every node's members, mean direction, representative tags and path code."""
    from so_assets.storage.tag_vector_store import TagVectors
    from so_assets.tagtree.tree import build_tag_tree as build

    train_counts = dict(stores.questions.tag_counts(split="train"))
    if not train_counts:
        raise ValueError("no training question has a tag: materialize dataset_splits first "
                         "(only training questions decide the kept tags and their vectors)")
    every_tag = [t for t, _ in stores.questions.tag_counts()]
    counts = np.array([train_counts.get(t, 0) for t in every_tag])
    kept = is_kept(counts, params.min_tag_count)
    if not kept.any():
        raise ValueError(f"no tag reaches min_tag_count={params.min_tag_count} training "
                         f"questions (most used: {counts.max()}); lower min_tag_count")
    names = stores.tag_vectors.load().select(every_tag)
    usage = accumulate_usage(every_tag, names, _question_batches(stores, "train"))
    kept_tags = [t for t, k in zip(every_tag, kept, strict=True) if k]
    weight, weights_table = _choose_usage_weight(stores, names, usage, kept, kept_tags, params,
                                                 log)
    vectors = blend(names, usage, weight, params.usage_prior)
    stores.tag_tree_vectors.write(TagVectors(every_tag, vectors, counts), stores.encoder_slug,
                                  usage_weight=weight, usage_prior=params.usage_prior)
    started = time.perf_counter()
    tree = build(kept_tags, vectors[kept], counts[kept], n_clusters=params.n_clusters,
                 branching=params.branching, max_leaf_size=params.max_leaf_size,
                 max_depth=params.max_depth, random_state=params.random_state)
    seconds = time.perf_counter() - started
    for note in tree.notes:
        log.warning(note)
    nodes = [TreeNodeRow(n.node_id, n.parent_id, n.depth, n.path, n.size, n.representative,
                         n.popular, [tree.tags[i] for i in n.members], n.mean.tolist())
             for n in tree.nodes]
    saved_params = {**asdict(params), "usage_weight": weight}
    write_tree(stores.questions, nodes, tree.tag_path,
               dict(zip(tree.tags, tree.counts.tolist(), strict=True)), saved_params,
               params.min_tag_count, seconds)
    export = stores.tag_tree_export
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(json.dumps({"params": saved_params, "build_seconds": seconds,
                                  **tree.to_json()}, indent=1))
    table = Table(["cluster", "representative", "tags", "most popular"])
    for c in tree.clusters[:30]:
        table.add(str(c.path[0]), c.representative, c.size, ", ".join(c.popular))
    return TagTreeResult(int(kept.sum()), int((~kept).sum()), len(tree.clusters),
                         params.n_clusters, tree.notes, len(tree.nodes),
                         max(n.depth for n in tree.nodes), round(seconds, 2), weight,
                         weights_table, table, export)


@dataclass(frozen=True)
class TagLabelsResult:
    questions: int
    imputed_only: int
    unlabelled: int
    kept_tags: int
    orphan_tags: int
    unmapped_orphans: int
    min_similarity: float
    most_used_orphans: Table
    orphan_labels: int


def tree_vectors(stores: Stores) -> TagVectors:
    """Every tag's vector as the tree blended it, with its training-question count."""
    stored = stores.tag_tree_vectors.load()
    if not stored.tags or stored.counts is None:
        raise ValueError(f"no tag vectors at {stores.tag_tree_vectors.path}: materialize "
                         "tag_tree first")
    return stored


def tag_labels(stores: Stores, log: logging.Logger) -> TagLabelsResult:
    """Orphan tags imputed to their nearest kept tag by the tree's tag vectors (cosine stored;
    below the tree's ``min_similarity`` left unmapped); every question's tag labels (kept tags
    and the orphans on ``min_label_count`` training questions) and cluster labels (questions
    with neither take their tags' imputed targets)."""
    tree = read_tree(stores.questions)
    stored = tree_vectors(stores)
    min_similarity = float(tree.params.get("min_similarity", -1.0))
    imputation = impute_orphans(stored.tags, stored.vectors, stored.counts, tree.min_tag_count,
                                min_similarity)
    count_of = dict(zip(stored.tags, stored.counts.tolist(), strict=True))
    tree_clusters = tree.cluster_of()
    labelled = labelled_orphans([(o, count_of[o], k) for o, k in
                                 imputation.orphan_target.items()],
                                tree.params.get("min_label_count"))
    cluster_of = tree_clusters | {o: tree_clusters[k] for o, k in labelled}
    stats = {"questions": 0, "imputed_only": 0, "unlabelled": 0}

    def labels():
        for batch in iter_question_tags(stores.questions):
            for question_id, question_tags in batch:
                kept, clusters, imputed = imputation.labels_for(question_tags, cluster_of)
                stats["questions"] += 1
                stats["imputed_only"] += imputed
                stats["unlabelled"] += not clusters
                yield question_id, kept, clusters, imputed

    orphans = [(t, count_of[t], imputation.orphan_target.get(t),
                imputation.orphan_similarity.get(t, imputation.unmapped.get(t)))
               for t in sorted({*imputation.orphan_target, *imputation.unmapped})]
    written = write_labels(stores.questions, orphans, labels())
    log.info("labelled %d questions (%d only through imputed tags); %d of %d orphan tags "
             "unmapped (cosine below %.2f); %d orphans are labels of their own", written,
             stats["imputed_only"], len(imputation.unmapped), len(orphans), min_similarity,
             len(labelled))
    table = Table(["orphan", "training questions", "-> kept tag", "cosine"], digits=2)
    for tag, count, target, cosine in sorted(orphans, key=lambda o: -o[1])[:15]:
        table.add(tag, count, target or "(unmapped)", cosine)
    return TagLabelsResult(written, stats["imputed_only"], stats["unlabelled"],
                           len(imputation.kept), len(orphans), len(imputation.unmapped),
                           min_similarity, table, len(labelled))
