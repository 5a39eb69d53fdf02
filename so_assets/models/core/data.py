"""What models learn from and score: label spaces, inputs and labelled splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Self

import numpy as np

if TYPE_CHECKING:
    from datetime import date

    from scipy.sparse import csr_array

    from so_assets.storage.embedding_store import EmbeddingStore


@dataclass(frozen=True)
class LabelSpace:
    """The label clusters (named by their representative tag) and the kept tags."""

    cluster_names: list[str]
    tags: list[str]
    tag_cluster: list[int]  # each kept tag's cluster
    tag_paths: list[list[int]] | None = None
    """Each kept tag's path code in the tag tree (its cluster first), when known."""

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_names)

    @property
    def n_tags(self) -> int:
        return len(self.tags)

    def membership(self) -> np.ndarray:
        """[n_tags, n_clusters] float32: 1 where the kept tag belongs to the cluster."""
        return np.eye(self.n_clusters, dtype=np.float32)[self.tag_cluster]

    def to_json(self) -> dict:
        return {"cluster_names": self.cluster_names, "tags": self.tags,
                "tag_cluster": self.tag_cluster, "tag_paths": self.tag_paths}

    @classmethod
    def from_json(cls, data: dict) -> LabelSpace:
        return cls(data["cluster_names"], data["tags"], data["tag_cluster"],
                   data.get("tag_paths"))


@dataclass(kw_only=True)
class Inputs:
    """Questions to score: texts, title / body vectors, the token sequences when a model needs
    them (title [n, 4, d], title_mask, body [n, 32, d], body_mask) and the columns known at
    posting time (creation_date, code_block_count, num_tags, owner_reputation)."""

    question_ids: np.ndarray
    titles: list[str]
    bodies: list[str]
    title_vectors: np.ndarray
    body_vectors: np.ndarray
    tokens: dict[str, np.ndarray] | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    clusters: np.ndarray | None = None  # [n, k] the clusters of the question's own tags
    score_age_days: np.ndarray | None = None
    """[n] the horizon: how old the question is when its score is read (for a new question,
    the age at which its score is wanted)."""

    def __len__(self) -> int:
        return len(self.titles)

    def subset(self, rows: np.ndarray) -> Self:
        """The questions at ``rows`` (indexes or a boolean mask), every field alike."""
        index = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)

        def pick(value):
            if value is None:
                return None
            if isinstance(value, dict):
                return {k: v[index] for k, v in value.items()}
            if isinstance(value, list):
                return [value[i] for i in index]
            return value[index]

        return type(self)(**{f.name: pick(getattr(self, f.name)) for f in fields(self)})


@dataclass(kw_only=True)
class SplitData(Inputs):
    """One labelled split: inputs plus cluster and kept-tag indicator matrices and scores."""

    clusters: np.ndarray  # [n, k] {0, 1} float32 (the tag models' target)
    tags: csr_array
    """[n, t] bool, sparse: the question's tag labels (a dense array given is stored sparse).
    Its width follows the tag universe: 80,000 training questions x 15,600 tag labels are 1.2
    GB as a dense bool array, about 2 MB as this. Torch models read it a batch of rows at a time
    as float (``torch_model.FloatRows``); a split's metrics read :meth:`tag_matrix`."""
    scores: np.ndarray | None = None  # [n] the question scores, when the source has them
    tag_lists: list[list[str]] | None = None  # every tag of each question, orphans included

    def __post_init__(self) -> None:
        self.tags = sparse_indicator(self.tags)

    def tag_matrix(self) -> np.ndarray:
        """[n, t] bool, dense: the tag labels for a split's metrics and threshold searches
        (validation and test; a training split's is the size the sparse form avoids)."""
        return self.tags.toarray()

    def majority_cluster(self) -> np.ndarray:
        """The seed's single-label target: the cluster most of the question's tags fall in
        (ties: the lower cluster index)."""
        return self.clusters.argmax(axis=1) if len(self) else np.zeros(0, dtype=np.int64)


@dataclass
class TrainingData:
    """Everything a model may learn from; every model sees the same splits. ``tree`` and
    ``tag_vectors`` are filled for models that need them."""

    labels: LabelSpace
    train: SplitData
    validation: SplitData
    vectors: EmbeddingStore | None = None  # the partitions, for models that stream them
    cluster_means: np.ndarray | None = None  # [k, d] depth-1 cluster mean directions
    tag_vectors: np.ndarray | None = None  # [t, d] kept tags' vectors
    tag_paths: list[tuple[int, ...]] | None = None  # each kept tag's path in the tree


def question_text(titles: list[str], bodies: list[str]) -> list[str]:
    """Title twice (it matters more) then the body."""
    return [f"{t} {t} {b}" for t, b in zip(titles, bodies, strict=True)]


def multi_hot(rows: Sequence[Sequence[int]], width: int) -> np.ndarray:
    """[n, width] float32 indicator matrix."""
    out = np.zeros((len(rows), width), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i, list(row)] = 1
    return out


def sparse_multi_hot(rows: Sequence[Sequence[int]], width: int) -> csr_array:
    """[n, width] bool indicator matrix, sparse (each row's column indexes, repeats ignored)."""
    from scipy.sparse import csr_array

    columns = [sorted(set(row)) for row in rows]
    indptr = np.cumsum([0, *map(len, columns)])
    indices = np.fromiter((c for row in columns for c in row), np.int32, indptr[-1])
    return csr_array((np.ones(len(indices), bool), indices, indptr), shape=(len(rows), width))


def sparse_indicator(matrix) -> csr_array:
    """``matrix`` (a dense or sparse [n, t] indicator) as a bool CSR array."""
    from scipy.sparse import csr_array, issparse

    if issparse(matrix) and matrix.format == "csr" and matrix.dtype == bool:
        return matrix if isinstance(matrix, csr_array) else csr_array(matrix)
    return csr_array(np.asarray(matrix.toarray() if issparse(matrix) else matrix) != 0)


def load_dense(store: EmbeddingStore, kind: str, ids: np.ndarray, datasets: Sequence[str],
               days: Sequence[date] | None = None) -> dict[str, np.ndarray]:
    """Rows of ``datasets`` for ``ids`` (in that order), read partition by partition: only the
    partitions of ``days`` when the caller knows them (a day's questions open one file, not
    every day's)."""
    position = {int(q): i for i, q in enumerate(ids)}
    out: dict[str, np.ndarray] = {}
    found = np.zeros(len(ids), dtype=bool)
    for batch_ids, arrays in store.iter_batches(kind, datasets, question_ids=ids, days=days):
        rows = np.array([position[int(q)] for q in batch_ids], dtype=np.int64)
        for name, values in arrays.items():
            if name not in out:
                out[name] = np.zeros((len(ids), *values.shape[1:]), dtype=values.dtype)
            out[name][rows] = values
        found[rows] = True
    if not found.all():
        missing = ids[~found][:5].tolist()
        raise ValueError(f"{(~found).sum()} questions have no {kind} vectors (e.g. {missing}): "
                         f"materialize {kind} for their days")
    return out
