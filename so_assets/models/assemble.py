"""Assemble the splits, label space and features every model trains and is tested on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from so_assets.embedding.question_vectors import VECTORS
from so_assets.embedding.tag_vectors import load_tag_vectors
from so_assets.models.base import TrainingData
from so_assets.models.data import LabelSpace, SplitData, load_dense, multi_hot
from so_assets.storage.embedding_store import EmbeddingStore
from so_assets.storage.question_store import QuestionStore
from so_assets.tagtree.spherical_kmeans import normalize_rows


def label_space(store: QuestionStore) -> tuple[LabelSpace, np.ndarray]:
    """Depth-1 clusters (named by representative tag) with their means, and the kept tags."""
    with store.connect(read_only=True) as con:
        clusters = con.execute("SELECT representative, mean FROM tag_tree_nodes WHERE depth = 1 "
                               "ORDER BY path[1]").fetchall()
        tags = con.execute("SELECT tag, cluster FROM tag_tree_tags ORDER BY cluster, "
                           "question_count DESC, tag").fetchall()
    if not clusters:
        raise ValueError("no tag tree: materialize tag_tree and tag_labels first")
    means = normalize_rows(np.array([m for _, m in clusters], dtype=np.float32))
    return LabelSpace([n for n, _ in clusters], [t for t, _ in tags], [c for _, c in tags]), means


def load_split(store: QuestionStore, vectors: EmbeddingStore, labels: LabelSpace, split: str
               ) -> SplitData:
    """One split's labelled questions with their title and body vectors."""
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT q.question_id, q.title, q.body_text, l.cluster_labels, l.kept_tags "
            "FROM questions q JOIN tag_labels l USING (question_id) "
            "JOIN dataset_splits s USING (question_id) "
            "WHERE s.split = ? AND len(l.cluster_labels) > 0 ORDER BY q.question_id",
            [split]).fetchall()
    tag_index = {t: i for i, t in enumerate(labels.tags)}
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    data = SplitData(ids, [r[1] for r in rows], [r[2] for r in rows],
                     multi_hot([r[3] for r in rows], labels.n_clusters),
                     multi_hot([[tag_index[t] for t in r[4] if t in tag_index] for r in rows],
                               labels.n_tags))
    if len(ids):
        dense = load_dense(vectors, VECTORS, ids, ["title", "body"])
        data.title_vectors, data.body_vectors = dense["title"], dense["body"]
    else:
        data.title_vectors = data.body_vectors = np.zeros((0, 0), dtype=np.float32)
    return data


def assemble(store: QuestionStore, vectors: EmbeddingStore, tag_vectors_file: Path
             ) -> tuple[TrainingData, SplitData]:
    """Training data (train + validation) and the held-out test split."""
    labels, means = label_space(store)
    splits = {s: load_split(store, vectors, labels, s) for s in ("train", "validation", "test")}
    for name, split in splits.items():
        if len(split) == 0:
            raise ValueError(f"the {name} split has no labelled questions: more data is needed")
    stored = load_tag_vectors(tag_vectors_file)
    index = stored.lookup()
    tag_vectors = stored.vectors[[index[t] for t in labels.tags]]
    data = TrainingData(labels, splits["train"], splits["validation"], vectors, means,
                        tag_vectors)
    return data, splits["test"]
