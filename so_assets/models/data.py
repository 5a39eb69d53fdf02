"""Training data: label spaces, splits and features streamed from the HDF5 partitions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import IterableDataset

from so_assets.storage.embedding_store import EmbeddingStore


@dataclass(frozen=True)
class LabelSpace:
    """The label clusters (named by their representative tag) and the kept tags."""

    cluster_names: list[str]
    tags: list[str]
    tag_cluster: list[int]  # each kept tag's cluster

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_names)

    @property
    def n_tags(self) -> int:
        return len(self.tags)

    def to_json(self) -> dict:
        return {"cluster_names": self.cluster_names, "tags": self.tags,
                "tag_cluster": self.tag_cluster}

    @classmethod
    def from_json(cls, data: dict) -> LabelSpace:
        return cls(data["cluster_names"], data["tags"], data["tag_cluster"])


@dataclass
class SplitData:
    """One split: question ids, texts, label matrices, and (once loaded) dense features."""

    question_ids: np.ndarray
    titles: list[str]
    bodies: list[str]
    clusters: np.ndarray  # [n, k] {0,1} float32
    tags: np.ndarray  # [n, t] {0,1} float32
    title_vectors: np.ndarray | None = None
    body_vectors: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.question_ids)

    def majority_cluster(self) -> np.ndarray:
        """The seed's single-label target: the cluster most of the question's tags fall in
        (ties: the lower cluster index)."""
        return self.clusters.argmax(axis=1) if len(self) else np.zeros(0, dtype=np.int64)


def multi_hot(rows: Sequence[Sequence[int]], width: int) -> np.ndarray:
    """[n, width] float32 indicator matrix."""
    out = np.zeros((len(rows), width), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i, list(row)] = 1.0
    return out


def load_dense(store: EmbeddingStore, kind: str, ids: np.ndarray, datasets: Sequence[str]
               ) -> dict[str, np.ndarray]:
    """Rows of ``datasets`` for ``ids`` (in that order), read partition by partition."""
    position = {int(q): i for i, q in enumerate(ids)}
    out: dict[str, np.ndarray] = {}
    found = np.zeros(len(ids), dtype=bool)
    for batch_ids, arrays in store.iter_batches(kind, datasets, question_ids=ids):
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


class SequenceStream(IterableDataset):
    """Token-sequence features streamed from HDF5 in shuffled minibatches.

    Partitions are visited in a new random order every epoch and rows are shuffled within a
    buffer, so memory holds one buffer of [rows, 36, d] whatever the corpus size.
    """

    def __init__(self, store: EmbeddingStore, kind: str, ids: np.ndarray, labels: np.ndarray,
                 batch_size: int = 64, buffer_rows: int = 2048, shuffle: bool = True,
                 seed: int = 0) -> None:
        self.store, self.kind, self.batch_size = store, kind, batch_size
        self.row_of = {int(q): i for i, q in enumerate(ids)}
        self.ids, self.labels = ids, labels
        self.buffer_rows, self.shuffle, self.seed = buffer_rows, shuffle, seed
        self.epoch = 0

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        days = self.store.days(self.kind)
        if self.shuffle:
            days = list(rng.permutation(days))
        names = ["title", "title_mask", "body", "body_mask"]
        buffer: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        held = 0
        for ids, arrays in self.store.iter_batches(self.kind, names, question_ids=self.ids,
                                                   batch_size=512, days=days):
            buffer.append((ids, arrays))
            held += len(ids)
            if held >= self.buffer_rows:
                yield from self._drain(buffer, rng)
                buffer, held = [], 0
        if buffer:
            yield from self._drain(buffer, rng)

    def _drain(self, buffer, rng) -> Iterator[tuple[torch.Tensor, ...]]:
        ids = np.concatenate([b[0] for b in buffer])
        arrays = {n: np.concatenate([b[1][n] for b in buffer]) for n in buffer[0][1]}
        order = rng.permutation(len(ids)) if self.shuffle else np.arange(len(ids))
        rows = np.array([self.row_of[int(q)] for q in ids])
        for lo in range(0, len(order), self.batch_size):
            pick = order[lo : lo + self.batch_size]
            yield (torch.from_numpy(arrays["title"][pick]),
                   torch.from_numpy(arrays["title_mask"][pick]),
                   torch.from_numpy(arrays["body"][pick]),
                   torch.from_numpy(arrays["body_mask"][pick]),
                   torch.from_numpy(self.labels[rows[pick]]),
                   torch.from_numpy(rows[pick]))
