"""One vector per distinct tag, kept in ``<embeddings>/<slug>/tags.h5``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from so_assets.storage.embedding_store import write_h5_atomic


@dataclass(frozen=True)
class TagVectors:
    tags: list[str]
    vectors: np.ndarray  # [n, d] float32, unit rows
    counts: np.ndarray | None = None  # questions per tag, where the writer knew them

    def lookup(self) -> dict[str, int]:
        return {tag: i for i, tag in enumerate(self.tags)}

    def select(self, tags: Sequence[str]) -> np.ndarray:
        """The vectors of ``tags``, in that order; an error names tags without one."""
        index = self.lookup()
        if missing := [t for t in tags if t not in index]:
            raise ValueError(f"{len(missing)} tags have no vector (e.g. {missing[:3]}): "
                             "materialize tag_embeddings first")
        return self.vectors[[index[t] for t in tags]]


class TagVectorStore:
    """The tag vectors of one encoder, extended as new tags appear."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> TagVectors:
        """The stored tag vectors, or an empty set when there is no file yet."""
        if not self.path.exists():
            return TagVectors([], np.zeros((0, 0), dtype=np.float32))
        with h5py.File(self.path, "r") as h5:
            tags = [t.decode() if isinstance(t, bytes) else t for t in h5["tag"][:]]
            return TagVectors(tags, h5["vector"][:],
                              h5["question_count"][:] if "question_count" in h5 else None)

    def write(self, vectors: TagVectors, encoder_slug: str, **attrs: float | str) -> None:
        """Replace the file atomically with ``vectors`` (``attrs`` say how they were made)."""
        arrays = {"tag": np.array(vectors.tags, dtype=object).astype(str),
                  "vector": vectors.vectors.astype(np.float32)}
        if vectors.counts is not None:
            arrays["question_count"] = np.asarray(vectors.counts, dtype=np.int64)
        write_h5_atomic(self.path, arrays,
                        {"encoder_slug": encoder_slug, "count": len(vectors.tags), **attrs})
