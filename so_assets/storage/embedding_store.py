"""HDF5 partition files of embeddings: ``<root>/<model-slug>/<kind>/<YYYY-MM-DD>.h5``.

Each file is written to a temporary name in the same folder and renamed over the old one, so a
crash mid-write leaves the previous file intact. Sequence datasets are chunked one question per
chunk, so a question's [s, d] block reads without reading its partition.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from so_assets.storage.embedding_kinds import TOKEN_FIELDS, TOKENS, VECTORS
from so_assets.storage.leftovers import remove_if_abandoned, writer_suffix

COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}

__all__ = ["TOKENS", "TOKEN_FIELDS", "VECTORS", "EmbeddingStore", "write_h5_atomic"]


def write_h5_atomic(path: Path, arrays: Mapping[str, np.ndarray],
                    attrs: Mapping[str, Any] | None = None) -> Path:
    """Write ``arrays`` (and file attributes) to ``path`` via a temporary file and a rename.

    Temporary files of ``path`` left by writers that were killed are removed first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        remove_if_abandoned(stale)
    tmp = path.with_name(f".{path.name}.{writer_suffix()}.tmp")
    try:
        with h5py.File(tmp, "w") as h5:
            for name, array in arrays.items():
                array = np.asarray(array)
                if array.dtype.kind in "US":
                    h5.create_dataset(name, data=array.astype(object),
                                      dtype=h5py.string_dtype())
                elif array.ndim >= 2 and array.shape[0] > 0:
                    chunks = (1, *array.shape[1:]) if array.ndim == 3 else (
                        min(array.shape[0], 1024), array.shape[1])
                    h5.create_dataset(name, data=array, chunks=chunks, **COMPRESSION)
                else:
                    h5.create_dataset(name, data=array)
            for key, value in (attrs or {}).items():
                h5.attrs[key] = value
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


class EmbeddingStore:
    """The partition files of one encoder (its slug) under ``root``."""

    def __init__(self, root: Path | str, slug: str) -> None:
        self.root = Path(root)
        self.slug = slug

    def folder(self, kind: str) -> Path:
        return self.root / self.slug / kind

    def path(self, kind: str, day: date | str) -> Path:
        day_text = day if isinstance(day, str) else day.isoformat()
        return self.root / self.slug / kind / f"{day_text}.h5"

    def days(self, kind: str) -> list[date]:
        folder = self.root / self.slug / kind
        return sorted(date.fromisoformat(p.stem) for p in folder.glob("*.h5")) if (
            folder.is_dir()) else []

    def write(self, kind: str, day: date, arrays: Mapping[str, np.ndarray],
              attrs: Mapping[str, Any]) -> Path:
        return write_h5_atomic(self.path(kind, day), arrays, attrs)

    def attrs(self, kind: str, day: date) -> dict[str, Any]:
        """The file attributes of a partition, or {} when it has no file."""
        path = self.path(kind, day)
        if not path.exists():
            return {}
        with h5py.File(path, "r") as h5:
            return dict(h5.attrs)

    def iter_batches(self, kind: str, datasets: Iterable[str],
                     question_ids: Iterable[int] | None = None, batch_size: int = 4096,
                     days: Iterable[date] | None = None,
                     ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """(question ids, {dataset: rows}) batches over all partitions, one file open at a time.

        ``days`` limits the files opened to those days' (days without a file are passed over).
        With ``question_ids`` only those rows are read (HDF5 fancy indexing, sorted per file),
        so memory holds at most one batch whatever the corpus size.
        """
        wanted = None if question_ids is None else np.unique(np.fromiter(question_ids, np.int64))
        names = list(datasets)
        for day in (sorted(days) if days is not None else self.days(kind)):
            if days is not None and not self.path(kind, day).exists():
                continue  # a day never embedded: its ids are reported missing by the caller
            with h5py.File(self.path(kind, day), "r") as h5:
                ids = h5["question_id"][:]
                if wanted is None:
                    for lo in range(0, len(ids), batch_size):
                        hi = lo + batch_size
                        yield ids[lo:hi], {n: h5[n][lo:hi] for n in names}
                    continue
                rows = np.flatnonzero(np.isin(ids, wanted))
                if len(rows) * 20 < len(ids):  # a few rows: point reads
                    for lo in range(0, len(rows), batch_size):
                        pick = rows[lo : lo + batch_size]
                        yield ids[pick], {n: h5[n][pick] for n in names}
                    continue
                # many rows: contiguous block reads (fast in HDF5), filtered in memory
                for lo in range(0, len(ids), batch_size):
                    keep = np.isin(ids[lo : lo + batch_size], wanted)
                    if keep.any():
                        yield ids[lo : lo + batch_size][keep], {
                            n: h5[n][lo : lo + batch_size][keep] for n in names}
