"""One vector per distinct tag, kept in ``<root>/<slug>/tags.h5`` and extended incrementally."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from so_assets.embedding.encoder import TextEncoder
from so_assets.storage.embedding_store import write_h5_atomic


@dataclass(frozen=True)
class TagVectors:
    tags: list[str]
    vectors: np.ndarray  # [n, d] float32, unit rows

    def lookup(self) -> dict[str, int]:
        return {tag: i for i, tag in enumerate(self.tags)}


def tag_vectors_path(root: Path, slug: str) -> Path:
    return Path(root) / slug / "tags.h5"


def load_tag_vectors(path: Path) -> TagVectors:
    """The stored tag vectors, or an empty set when there is no file yet."""
    if not path.exists():
        return TagVectors([], np.zeros((0, 0), dtype=np.float32))
    with h5py.File(path, "r") as h5:
        tags = [t.decode() if isinstance(t, bytes) else t for t in h5["tag"][:]]
        return TagVectors(tags, h5["vector"][:])


def update_tag_vectors(encoder: TextEncoder, path: Path, tags: Sequence[str]
                       ) -> tuple[TagVectors, int]:
    """Embed the tags not stored yet, write the union atomically; returns it and the new count.

    Tags are embedded as documents (no query instruction), by their name.
    """
    stored = load_tag_vectors(path)
    known = set(stored.tags)
    new = sorted({t for t in tags if t not in known})
    if not new:
        return stored, 0
    encoded = encoder.encode(new, is_query=False, max_length=32, label="tags").vectors
    vectors = encoded if not stored.tags else np.vstack([stored.vectors, encoded])
    merged = TagVectors([*stored.tags, *new], vectors.astype(np.float32))
    write_h5_atomic(path, {"tag": np.array(merged.tags, dtype=object).astype(str),
                           "vector": merged.vectors},
                    {"encoder_slug": encoder.slug, "count": len(merged.tags)})
    return merged, len(new)
