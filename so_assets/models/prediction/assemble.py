"""Assemble the splits, label space and inputs every model trains and is tested on."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date

import numpy as np

from so_assets.models.core.base import Need
from so_assets.models.core.data import (
    LabelSpace,
    SplitData,
    TrainingData,
    load_dense,
    multi_hot,
    sparse_multi_hot,
)
from so_assets.stackexchange.sources import SOURCES
from so_assets.storage.datasets import SplitRows, days_rows, split_rows
from so_assets.storage.embedding_store import TOKEN_FIELDS, TOKENS, VECTORS
from so_assets.storage.question_store import QuestionStore
from so_assets.storage.stores import Stores
from so_assets.storage.tag_tables import StoredTree, read_imputation, read_tree
from so_assets.tagtree.geometry import normalize_rows
from so_assets.tagtree.imputation import labelled_orphans


def label_space(tree: StoredTree,
                imputation: Sequence[tuple[str, int, str | None, float | None]] = ()
                ) -> LabelSpace:
    """Depth-1 clusters (named by representative tag), the kept tags, then the orphans that
    are labels of their own (``imputation``'s rows: orphan, training questions, kept tag,
    cosine), each with the path of the kept tag it was imputed to."""
    paths = {t: list(path) for t, path in tree.tag_paths.items()}
    for orphan, kept in labelled_orphans([(o, n, k) for o, n, k, _ in imputation],
                                         tree.params.get("min_label_count")):
        paths[orphan] = paths[kept]
    tags = list(paths)
    return LabelSpace(tree.cluster_names, tags, [paths[t][0] for t in tags],
                      [paths[t] for t in tags])


def current_labels(store: QuestionStore) -> LabelSpace:
    """The label space of the stored tag tree and tag labels (what models train on now)."""
    return label_space(read_tree(store), read_imputation(store))


def load_split(stores: Stores, labels: LabelSpace, split: str, tokens: bool = False
               ) -> SplitData:
    """One split's labelled questions with their vectors (and token sequences if asked)."""
    rows = split_rows(stores.questions, split)
    tag_index = {t: i for i, t in enumerate(labels.tags)}
    dim = 0
    vectors = {"title": np.zeros((0, dim), np.float32), "body": np.zeros((0, dim), np.float32)}
    if len(rows):
        vectors = load_dense(stores.embeddings, VECTORS, rows.question_ids, ["title", "body"])
    data = SplitData(
        question_ids=rows.question_ids, titles=rows.titles, bodies=rows.bodies,
        title_vectors=vectors["title"], body_vectors=vectors["body"], columns=rows.columns,
        clusters=multi_hot(rows.cluster_labels, labels.n_clusters),
        tags=sparse_multi_hot([[tag_index[t] for t in kept if t in tag_index]
                               for kept in rows.kept_tags], labels.n_tags),
        scores=np.where([SOURCES[s].has_scores if s in SOURCES else True for s in rows.sources],
                        rows.scores, np.nan),
        score_age_days=rows.score_age_days, tag_lists=rows.tags)
    if tokens and len(rows):
        data.tokens = load_dense(stores.embeddings, TOKENS, rows.question_ids, TOKEN_FIELDS)
    return data


def assemble(stores: Stores, needs: Collection[Need] = ()) -> tuple[TrainingData, SplitData]:
    """Training data (train + validation) and the held-out test split, with what ``needs``
    asks for: token sequences of the validation and test splits (training streams them), the
    tree's cluster means, the kept tags' vectors."""
    tree = read_tree(stores.questions)
    labels = label_space(tree, read_imputation(stores.questions))
    with_tokens = Need.TOKENS in needs
    splits = {s: load_split(stores, labels, s, tokens=with_tokens and s != "train")
              for s in ("train", "validation", "test")}
    for name, split in splits.items():
        if len(split) == 0:
            raise ValueError(f"the {name} split has no labelled questions (of "
                             f"{sum(len(x) for x in splits.values())} in all): more questions "
                             "are needed, or a lower --min-tag-count so that more are labelled")
    data = TrainingData(labels, splits["train"], splits["validation"], stores.embeddings)
    if Need.TREE in needs:
        data.cluster_means = normalize_rows(tree.cluster_means)
        data.tag_paths = [tuple(path) for path in labels.tag_paths]
    if Need.TAG_VECTORS in needs:
        data.tag_vectors = stores.tag_tree_vectors.load().select(labels.tags)
    return data, splits["test"]


def load_days(stores: Stores, days: Sequence[date], labels: LabelSpace,
              needs: Collection[Need] = (), orphan_targets: Mapping[str, str] | None = None
              ) -> dict[date, SplitData]:
    """Every question of each of ``days`` as a model scores it (one DuckDB query for them
    all, each day's vectors from its own HDF5 partition), with its own tags mapped onto
    ``labels`` as the truth: kept tags directly, an orphan through the kept tag it was imputed
    to (``orphan_targets``), tags outside both left out (``tag_lists`` keeps them all)."""
    return {day: _day_data(stores, day, rows, labels, needs, orphan_targets or {})
            for day, rows in days_rows(stores.questions, days).items()}


def _day_data(stores: Stores, day: date, rows: SplitRows, labels: LabelSpace,
              needs: Collection[Need], targets: Mapping[str, str]) -> SplitData:
    tag_index = {t: i for i, t in enumerate(labels.tags)}
    kept = [[t for t in tags if t in tag_index] for tags in rows.tags]
    via = [[targets[t] for t in tags if t not in tag_index and targets.get(t) in tag_index]
           for tags in rows.tags]
    cluster_rows = [sorted({labels.tag_cluster[tag_index[t]] for t in [*k, *v]})
                    for k, v in zip(kept, via, strict=True)]
    vectors = {"title": np.zeros((0, 0), np.float32), "body": np.zeros((0, 0), np.float32)}
    if len(rows):
        vectors = load_dense(stores.embeddings, VECTORS, rows.question_ids, ["title", "body"],
                             days=[day])
    data = SplitData(
        question_ids=rows.question_ids, titles=rows.titles, bodies=rows.bodies,
        title_vectors=vectors["title"], body_vectors=vectors["body"], columns=rows.columns,
        clusters=multi_hot(cluster_rows, labels.n_clusters),
        tags=sparse_multi_hot([[tag_index[t] for t in k] for k in kept], labels.n_tags),
        scores=np.where([SOURCES[s].has_scores if s in SOURCES else True for s in rows.sources],
                        rows.scores, np.nan),
        score_age_days=rows.score_age_days, tag_lists=rows.tags)
    if Need.TOKENS in needs and len(rows):
        data.tokens = load_dense(stores.embeddings, TOKENS, rows.question_ids, TOKEN_FIELDS,
                                 days=[day])
    return data
