"""What models learn from and score: label spaces, inputs and labelled splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Self

import numpy as np

if TYPE_CHECKING:
    from datetime import date

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
    tags: np.ndarray
    """[n, t] bool: the question's tag labels. bool, not float32, as its width follows the
    tag universe (80,000 training questions x 15,600 tag labels: 1.2 GB, not 5); torch models
    read it a batch at a time as float (``torch_model.FloatRows``)."""
    scores: np.ndarray | None = None  # [n] the question scores, when the source has them
    tag_lists: list[list[str]] | None = None  # every tag of each question, orphans included

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


def multi_hot(rows: Sequence[Sequence[int]], width: int, dtype: type = np.float32
              ) -> np.ndarray:
    """[n, width] indicator matrix of ``dtype``."""
    out = np.zeros((len(rows), width), dtype=dtype)
    for i, row in enumerate(rows):
        out[i, list(row)] = 1
    return out


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
