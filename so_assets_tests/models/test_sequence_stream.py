"""Training sequences streamed from real HDF5 partitions: shuffled batches, and the rows kept
in memory after the first epoch when they fit, with the same batches as reading every epoch."""

from __future__ import annotations

from datetime import date

import numpy as np

from so_assets.models.training.sequence_stream import SequenceStream
from so_assets.storage.embedding_kinds import TOKENS
from so_assets.storage.embedding_store import EmbeddingStore

DAYS = [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]


def token_store(root, rows_a_day: int = 300, dim: int = 8) -> tuple[EmbeddingStore, np.ndarray]:
    """Three days of token partitions; every third question is left out of the training ids."""
    store = EmbeddingStore(root, "slug")
    rng = np.random.default_rng(0)
    for i, day in enumerate(DAYS):
        ids = np.arange(rows_a_day) + 1000 * i
        store.write(TOKENS, day, {
            "question_id": ids,
            "title": rng.normal(size=(rows_a_day, 4, dim)).astype(np.float32),
            "title_mask": rng.random((rows_a_day, 4)) < 0.8,
            "body": rng.normal(size=(rows_a_day, 32, dim)).astype(np.float32),
            "body_mask": rng.random((rows_a_day, 32)) < 0.5}, {})
    every = np.concatenate([np.arange(rows_a_day) + 1000 * i for i in range(len(DAYS))])
    return store, every[every % 3 != 0]


def epochs(stream: SequenceStream, n: int) -> list[list[tuple]]:
    return [[tuple(t.numpy() for t in batch) for batch in stream] for _ in range(n)]


def test_rows_kept_in_memory_give_the_batches_read_every_epoch_gives(tmp_path):
    store, ids = token_store(tmp_path)
    labels = (np.arange(len(ids))[:, None] % np.array([2, 3]) == 0).astype(np.float32)
    streamed = SequenceStream(store, ids, labels, batch_size=64, buffer_rows=256, seed=3)
    kept = SequenceStream(store, ids, labels, batch_size=64, buffer_rows=256, seed=3,
                          memory_mb=16)
    read_every_epoch = epochs(streamed, 3)
    first = epochs(kept, 1)
    assert kept.held is not None and streamed.held is None
    for day in DAYS:  # later epochs must not touch HDF5 at all
        store.path(TOKENS, day).rename(tmp_path / f"{day}.moved")
    from_memory = first + epochs(kept, 2)
    assert [len(e) for e in from_memory] == [len(e) for e in read_every_epoch]
    for ours, theirs in zip(from_memory, read_every_epoch, strict=True):
        for a, b in zip(ours, theirs, strict=True):
            for x, y in zip(a, b, strict=True):
                np.testing.assert_array_equal(x, y)
    seen = [np.sort(np.concatenate([b[-1] for b in e])) for e in from_memory]
    assert all(np.array_equal(s, np.arange(len(ids))) for s in seen)  # every row, once
    assert not np.array_equal(np.concatenate([b[-1] for b in from_memory[0]]),
                              np.concatenate([b[-1] for b in from_memory[1]]))  # reshuffled
    rows, labels_of = from_memory[0][0][-1], from_memory[0][0][-2]
    np.testing.assert_array_equal(labels_of, labels[rows])


def test_rows_over_the_memory_budget_are_read_again_each_epoch(tmp_path):
    store, ids = token_store(tmp_path)
    labels = np.zeros((len(ids), 2), np.float32)
    # 600 rows of 36 x 8 float32 and 36 mask bytes: about 0.7 MB, over a 0.5 MB budget
    stream = SequenceStream(store, ids, labels, memory_mb=0.5)
    assert sum(len(b[0]) for b in stream) == len(ids)
    assert stream.held is None
