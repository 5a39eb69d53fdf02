"""Embed one day of questions into HDF5 partition files, once per encoder and content."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from so_assets.embedding.encoder import TextEncoder
from so_assets.storage.embedding_store import EmbeddingStore

VECTORS = "question_embeddings"
TOKENS = "question_token_embeddings"
TITLE_SEGMENTS = 4
BODY_SEGMENTS = 32


@dataclass(frozen=True)
class QuestionTexts:
    """One partition's questions, ordered by id."""

    question_ids: np.ndarray
    titles: list[str]
    bodies: list[str]

    def content_hash(self, slug: str) -> str:
        digest = hashlib.sha1(slug.encode())
        digest.update(self.question_ids.astype(np.int64).tobytes())
        for text in (*self.titles, *self.bodies):
            digest.update(text.encode("utf-8", "replace") + b"\x00")
        return digest.hexdigest()


@dataclass(frozen=True)
class PartitionWrite:
    kind: str
    day: date
    questions: int
    status: str  # "written" or "unchanged"
    path: str
    seconds: float


def embed_partition(encoder: TextEncoder, store: EmbeddingStore, day: date,
                    texts: QuestionTexts, kinds: set[str], force: bool = False
                    ) -> list[PartitionWrite]:
    """Write the requested kinds for ``day``; kinds whose file already holds these exact texts
    under this encoder are left alone unless ``force``. One forward pass serves both kinds."""
    started = time.monotonic()
    content = texts.content_hash(encoder.slug)
    todo = {k for k in kinds if force or store.attrs(k, day).get("content_hash") != content}
    results = [PartitionWrite(k, day, len(texts.titles), "unchanged", str(store.path(k, day)), 0.0)
               for k in sorted(kinds - todo)]
    if not todo:
        return results
    with_tokens = TOKENS in todo
    title = encoder.encode(texts.titles, is_query=True,
                           max_length=encoder.config.title_max_length,
                           segments=TITLE_SEGMENTS if with_tokens else 0, label=f"{day} titles")
    body = encoder.encode(texts.bodies, is_query=True,
                          segments=BODY_SEGMENTS if with_tokens else 0, label=f"{day} bodies")
    attrs = {"encoder_slug": encoder.slug, "model": encoder.config.resolved_model(),
             "pooling": encoder.config.pooling, "content_hash": content, "day": day.isoformat(),
             "written_at": datetime.now(UTC).isoformat(), "dimension": encoder.dimension}
    ids = texts.question_ids.astype(np.int64)
    if VECTORS in todo:
        path = store.write(VECTORS, day, {"question_id": ids, "title": title.vectors,
                                          "body": body.vectors}, attrs)
        results.append(PartitionWrite(VECTORS, day, len(ids), "written", str(path),
                                      time.monotonic() - started))
    if with_tokens:
        path = store.write(TOKENS, day, {
            "question_id": ids, "title": title.segments, "title_mask": title.segment_mask,
            "body": body.segments, "body_mask": body.segment_mask,
        }, {**attrs, "pooling_of_segments": "chunk-mean of token states"})
        results.append(PartitionWrite(TOKENS, day, len(ids), "written", str(path),
                                      time.monotonic() - started))
    return results
