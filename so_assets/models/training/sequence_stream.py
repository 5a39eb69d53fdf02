"""Token-sequence features streamed from the HDF5 partitions in shuffled minibatches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import torch
from torch.utils.data import IterableDataset

from so_assets.storage.embedding_store import TOKEN_FIELDS, TOKENS, EmbeddingStore

Block = tuple[np.ndarray, dict[str, np.ndarray]]
"""Question ids and their rows of every token field, as one HDF5 read gives them."""


class SequenceStream(IterableDataset):
    """Partitions are visited in a new random order every epoch and rows are shuffled within a
    buffer, so memory holds one buffer of [rows, 36, d] whatever the corpus size. Batches are
    (title, title_mask, body, body_mask, labels, row index).

    When the training rows fit in ``memory_mb``, the blocks the first epoch reads are kept and
    the next epochs shuffle them again without reading HDF5 (every row is gzip-decoded once, not
    once an epoch); the batches are the same either way."""

    def __init__(self, store: EmbeddingStore, ids: np.ndarray, labels: np.ndarray,
                 batch_size: int = 64, buffer_rows: int = 2048, shuffle: bool = True,
                 seed: int = 0, memory_mb: float = 0) -> None:
        self.store, self.batch_size = store, batch_size
        self.row_of = {int(q): i for i, q in enumerate(ids)}
        self.ids, self.labels = ids, labels
        self.buffer_rows, self.shuffle, self.seed = buffer_rows, shuffle, seed
        self.memory_mb = memory_mb
        self.held: dict[date, list[Block]] | None = None  # the first epoch's blocks, by day
        self.epoch = 0

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        days = self.store.days(TOKENS) if self.held is None else sorted(self.held)
        if self.shuffle:
            days = list(rng.permutation(days))
        buffer: list[Block] = []
        held = 0
        for block in self._read(days) if self.held is None else (
                block for day in days for block in self.held[day]):
            buffer.append(block)
            held += len(block[0])
            if held >= self.buffer_rows:
                yield from self._drain(buffer, rng)
                buffer, held = [], 0
        if buffer:
            yield from self._drain(buffer, rng)

    def _read(self, days: list[date]) -> Iterator[Block]:
        """The blocks from HDF5, day by day in the order given; kept in :attr:`held` once all
        are read, unless every row's size (as the blocks so far average) would pass
        ``memory_mb``."""
        kept: dict[date, list[Block]] | None = (
            {day: [] for day in days} if self.memory_mb > 0 else None)
        rows = size = 0
        for day in days:
            for block in self.store.iter_batches(TOKENS, TOKEN_FIELDS, question_ids=self.ids,
                                                 batch_size=512, days=[day]):
                if kept is not None:
                    rows += len(block[0])
                    size += sum(a.nbytes for a in block[1].values())
                    if size / rows * len(self.ids) > self.memory_mb * 2**20:
                        kept = None
                    else:
                        kept[day].append(block)
                yield block
        if kept is not None:
            self.held = kept

    def _drain(self, buffer, rng) -> Iterator[tuple[torch.Tensor, ...]]:
        ids = np.concatenate([b[0] for b in buffer])
        arrays = {n: np.concatenate([b[1][n] for b in buffer]) for n in buffer[0][1]}
        order = rng.permutation(len(ids)) if self.shuffle else np.arange(len(ids))
        rows = np.array([self.row_of[int(q)] for q in ids])
        for lo in range(0, len(order), self.batch_size):
            pick = order[lo : lo + self.batch_size]
            yield (*(torch.from_numpy(arrays[name][pick]) for name in TOKEN_FIELDS),
                   torch.from_numpy(self.labels[rows[pick]]), torch.from_numpy(rows[pick]))
