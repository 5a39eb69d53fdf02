"""DuckDB tables of the tag tree, the orphan-tag imputation and the per-question labels.

Each writer replaces its tables whole inside one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import duckdb
import pyarrow as pa

from so_assets.storage.question_store import QuestionStore
from so_assets.tagtree.imputation import Imputation
from so_assets.tagtree.tree import TagTree

TREE_NODES = "tag_tree_nodes"
TREE_TAGS = "tag_tree_tags"
IMPUTATION = "tag_imputation"
LABELS = "tag_labels"


def _replace(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        for name, table in tables.items():
            con.register("incoming", table)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def write_tree(store: QuestionStore, tree: TagTree, min_tag_count: int) -> None:
    """``tag_tree_nodes`` (one row per node) and ``tag_tree_tags`` (every kept tag's path)."""
    nodes = pa.table({
        "node_id": [n.node_id for n in tree.nodes],
        "parent_id": pa.array([n.parent_id for n in tree.nodes], pa.int64()),
        "depth": [n.depth for n in tree.nodes],
        "path": pa.array([list(n.path) for n in tree.nodes], pa.list_(pa.int32())),
        "size": [n.size for n in tree.nodes],
        "representative": [n.representative for n in tree.nodes],
        "popular": [n.popular for n in tree.nodes],
        "members": [[tree.tags[i] for i in n.members] for n in tree.nodes],
        "mean": pa.array([n.mean.tolist() for n in tree.nodes], pa.list_(pa.float32())),
    })
    paths = pa.table({
        "tag": tree.tags,
        "question_count": tree.counts.tolist(),
        "path": pa.array([list(tree.tag_path[t]) for t in tree.tags], pa.list_(pa.int32())),
        "cluster": [tree.tag_path[t][0] for t in tree.tags],
        "min_tag_count": [min_tag_count] * len(tree.tags),
    })
    with store.connect() as con:
        _replace(con, {TREE_NODES: nodes, TREE_TAGS: paths})


def read_tree_tags(store: QuestionStore) -> tuple[dict[str, tuple[int, ...]], int]:
    """Kept tags' path codes, and the threshold the tree was built with."""
    with store.connect(read_only=True) as con:
        rows = con.execute(f"SELECT tag, path, min_tag_count FROM {TREE_TAGS}").fetchall()
    if not rows:
        raise ValueError("the tag tree is empty: materialize tag_tree first")
    return {tag: tuple(path) for tag, path, _ in rows}, int(rows[0][2])


def read_cluster_means(store: QuestionStore) -> tuple[list[str], list[list[float]]]:
    """Depth-1 clusters' representative tags and mean directions, in path order."""
    with store.connect(read_only=True) as con:
        rows = con.execute(f"SELECT representative, mean FROM {TREE_NODES} WHERE depth = 1 "
                           "ORDER BY path[1]").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def write_labels(store: QuestionStore, imputation: Imputation,
                 counts: dict[str, int], labels: Iterator[tuple[int, list[str], list[int], bool]]
                 ) -> int:
    """``tag_imputation`` (orphan -> kept tag, cosine) and ``tag_labels`` (per question)."""
    orphans = sorted(imputation.orphan_target)
    imputed = pa.table({
        "orphan_tag": orphans,
        "question_count": [counts.get(t, 0) for t in orphans],
        "kept_tag": [imputation.orphan_target[t] for t in orphans],
        "cosine": [imputation.orphan_similarity[t] for t in orphans],
    }, schema=pa.schema([("orphan_tag", pa.string()), ("question_count", pa.int64()),
                         ("kept_tag", pa.string()), ("cosine", pa.float64())]))
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
        _replace(con, {IMPUTATION: imputed, LABELS: table})
    return len(ids)


def iter_question_tags(store: QuestionStore, batch: int = 50_000
                       ) -> Iterator[Sequence[tuple[int, list[str]]]]:
    """(question_id, tags) of every question, in batches, without loading the table whole."""
    with store.connect(read_only=True) as con:
        reader = con.sql("SELECT question_id, tags FROM questions ORDER BY question_id"
                         ).to_arrow_reader(batch)
        for record_batch in reader:
            yield list(zip(record_batch.column(0).to_pylist(), record_batch.column(1).to_pylist(),
                           strict=True))
