"""Token-sequence features streamed from the HDF5 partitions in shuffled minibatches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset

from so_assets.storage.embedding_store import TOKEN_FIELDS, TOKENS, EmbeddingStore


class SequenceStream(IterableDataset):
    """Partitions are visited in a new random order every epoch and rows are shuffled within a
    buffer, so memory holds one buffer of [rows, 36, d] whatever the corpus size. Batches are
    (title, title_mask, body, body_mask, labels, row index)."""

    def __init__(self, store: EmbeddingStore, ids: np.ndarray, labels: np.ndarray,
                 batch_size: int = 64, buffer_rows: int = 2048, shuffle: bool = True,
                 seed: int = 0) -> None:
        self.store, self.batch_size = store, batch_size
        self.row_of = {int(q): i for i, q in enumerate(ids)}
        self.ids, self.labels = ids, labels
        self.buffer_rows, self.shuffle, self.seed = buffer_rows, shuffle, seed
        self.epoch = 0

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        days = self.store.days(TOKENS)
        if self.shuffle:
            days = list(rng.permutation(days))
        buffer: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        held = 0
        for ids, arrays in self.store.iter_batches(TOKENS, TOKEN_FIELDS, question_ids=self.ids,
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
            yield (*(torch.from_numpy(arrays[name][pick]) for name in TOKEN_FIELDS),
                   torch.from_numpy(self.labels[rows[pick]]), torch.from_numpy(rows[pick]))
