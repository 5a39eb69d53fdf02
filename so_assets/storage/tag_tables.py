"""DuckDB tables of the tag tree, the orphan-tag imputation and the per-question labels.

Each writer replaces its tables whole inside one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa

from so_assets.storage.question_store import QuestionStore
from so_assets.storage.schema import replace_tables


@dataclass(frozen=True)
class TreeNodeRow:
    """One node of the tag tree as stored (members by name)."""

    node_id: int
    parent_id: int | None
    depth: int
    path: tuple[int, ...]
    size: int
    representative: str
    popular: list[str]
    members: list[str]
    mean: list[float]


@dataclass(frozen=True)
class StoredTree:
    """What the tree step wrote: its parameters, the kept tags' paths, the depth-1 clusters."""

    params: dict
    min_tag_count: int
    build_seconds: float
    tag_paths: dict[str, tuple[int, ...]]
    tag_counts: dict[str, int]
    cluster_names: list[str]  # depth-1 representatives, in path order
    cluster_means: np.ndarray  # [k, d]

    def cluster_of(self) -> dict[str, int]:
        return {tag: path[0] for tag, path in self.tag_paths.items()}


def write_tree(store: QuestionStore, nodes: Sequence[TreeNodeRow],
               tag_paths: dict[str, tuple[int, ...]], tag_counts: dict[str, int],
               params: dict, min_tag_count: int, build_seconds: float) -> None:
    """``tag_tree_params``, ``tag_tree_nodes`` (one row per node) and ``tag_tree_tags``."""
    node_table = pa.table({
        "node_id": [n.node_id for n in nodes],
        "parent_id": pa.array([n.parent_id for n in nodes], pa.int32()),
        "depth": [n.depth for n in nodes],
        "path": pa.array([list(n.path) for n in nodes], pa.list_(pa.int32())),
        "size": [n.size for n in nodes],
        "representative": [n.representative for n in nodes],
        "popular": pa.array([n.popular for n in nodes], pa.list_(pa.string())),
        "members": pa.array([n.members for n in nodes], pa.list_(pa.string())),
        "mean": pa.array([n.mean for n in nodes], pa.list_(pa.float32())),
    })
    tags = list(tag_paths)
    tag_table = pa.table({
        "tag": pa.array(tags, pa.string()),
        "question_count": pa.array([tag_counts[t] for t in tags], pa.int64()),
        "path": pa.array([list(tag_paths[t]) for t in tags], pa.list_(pa.int32())),
        "cluster": pa.array([tag_paths[t][0] for t in tags], pa.int32()),
    })
    param_table = pa.table({
        "params": [json.dumps(params, sort_keys=True)], "min_tag_count": [min_tag_count],
        "build_seconds": [build_seconds],
        "built_at": pa.array([datetime.now(UTC).replace(tzinfo=None)], pa.timestamp("us")),
    })
    with store.connect() as con:
        replace_tables(con, {"tag_tree_params": param_table, "tag_tree_nodes": node_table,
                             "tag_tree_tags": tag_table})


def read_tree(store: QuestionStore) -> StoredTree:
    """The stored tree; an error says to build it when there is none."""
    with store.connect(read_only=True) as con:
        params = con.execute("SELECT params, min_tag_count, build_seconds FROM tag_tree_params"
                             ).fetchall()
        tags = con.execute("SELECT tag, path, question_count FROM tag_tree_tags "
                           "ORDER BY cluster, question_count DESC, tag").fetchall()
        clusters = con.execute("SELECT representative, mean FROM tag_tree_nodes WHERE depth = 1 "
                               "ORDER BY path[1]").fetchall()
    if not params or not tags:
        raise ValueError("the tag tree is empty: materialize tag_tree first")
    means = np.array([m for _, m in clusters], dtype=np.float32)
    return StoredTree(json.loads(params[0][0]), int(params[0][1]), float(params[0][2]),
                      {t: tuple(p) for t, p, _ in tags}, {t: int(n) for t, _, n in tags},
                      [n for n, _ in clusters], means)


def write_labels(store: QuestionStore,
                 orphans: Sequence[tuple[str, int, str | None, float]],
                 labels: Iterator[tuple[int, list[str], list[int], bool]]) -> int:
    """``tag_imputation`` (orphan, its question count, kept tag or None, cosine), ``tag_labels``
    (per question: kept tags, cluster labels, whether they came only from imputation)."""
    imputed = pa.table({
        "orphan_tag": pa.array([o[0] for o in orphans], pa.string()),
        "question_count": pa.array([o[1] for o in orphans], pa.int64()),
        "kept_tag": pa.array([o[2] for o in orphans], pa.string()),
        "cosine": pa.array([o[3] for o in orphans], pa.float64()),
    })
    ids, kept, clusters, flags = [], [], [], []
    for question_id, kept_tags, cluster_labels, was_imputed in labels:
        ids.append(question_id)
        kept.append(kept_tags)
        clusters.append(cluster_labels)
        flags.append(was_imputed)
    table = pa.table({
        "question_id": pa.array(ids, pa.int64()),
        "kept_tags": pa.array(kept, pa.list_(pa.string())),
        "cluster_labels": pa.array(clusters, pa.list_(pa.int32())),
        "imputed": pa.array(flags, pa.bool_()),
    })
    with store.connect() as con:
        replace_tables(con, {"tag_imputation": imputed, "tag_labels": table})
    return len(ids)


def read_imputation(store: QuestionStore) -> list[tuple[str, int, str | None, float]]:
    """Every orphan tag: its training questions, its kept tag (None: unmapped), the cosine."""
    with store.connect(read_only=True) as con:
        return [(t, int(n), k, float(c)) for t, n, k, c in con.execute(
            "SELECT orphan_tag, question_count, kept_tag, cosine FROM tag_imputation "
            "ORDER BY orphan_tag").fetchall()]


def read_cluster_labels(store: QuestionStore) -> dict[int, list[int]]:
    """Every labelled question's cluster labels."""
    with store.connect(read_only=True) as con:
        return dict(con.execute("SELECT question_id, cluster_labels FROM tag_labels "
                                "WHERE len(cluster_labels) > 0").fetchall())


def iter_question_tags(store: QuestionStore, batch: int = 50_000
                       ) -> Iterator[Sequence[tuple[int, list[str]]]]:
    """(question_id, tags) of every question, in batches, without loading the table whole."""
    with store.connect(read_only=True) as con:
        reader = con.sql("SELECT question_id, tags FROM questions ORDER BY question_id"
                         ).to_arrow_reader(batch)
        for record_batch in reader:
            yield list(zip(record_batch.column(0).to_pylist(), record_batch.column(1).to_pylist(),
                           strict=True))


def iter_day_question_tags(store: QuestionStore, split: str, batch: int = 20_000
                           ) -> Iterator[tuple[date, list[tuple[int, list[str]]]]]:
    """(creation day, [(question_id, tags)]) of the questions of ``split``, one day at a time
    and at most ``batch`` questions at once, so that each batch's vectors are read from its
    own day's partition alone."""
    day: date | None = None
    pending: list[tuple[int, list[str]]] = []
    with store.connect(read_only=True) as con:
        reader = con.sql(
            "SELECT creation_day, question_id, tags FROM questions WHERE question_id IN "
            "(SELECT question_id FROM dataset_splits WHERE split = $split) "
            "ORDER BY creation_day, question_id", params={"split": split}).to_arrow_reader(batch)
        for record_batch in reader:
            for row_day, question_id, tags in zip(*(c.to_pylist() for c in record_batch.columns),
                                                  strict=True):
                if pending and (row_day != day or len(pending) >= batch):
                    yield day, pending
                    pending = []
                day = row_day
                pending.append((question_id, tags))
    if pending:
        yield day, pending
