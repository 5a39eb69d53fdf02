"""question_embeddings / question_token_embeddings, tag_embeddings and embedding_analysis."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from so_assets.embedding.config import BODY_SEGMENTS, TITLE_SEGMENTS, EncoderConfig
from so_assets.steps.results import ReportResult, param, write_report
from so_assets.storage.embedding_store import TOKENS, VECTORS, EmbeddingStore
from so_assets.storage.stores import Stores
from so_assets.storage.tag_vector_store import TagVectors

if TYPE_CHECKING:
    from so_assets.embedding.encoder import TextEncoder


@dataclass(frozen=True)
class EmbeddingParams:
    force: bool = param(False, "Re-embed even when a partition's file already holds the same "
                               "texts under this encoder.")


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


@dataclass(frozen=True)
class KindSummary:
    """What one run did to one kind of partition file."""

    encoder_slug: str
    device: str
    questions: int
    partitions_written: int
    partitions_unchanged: int
    empty_bodies: int
    folder: Path


@dataclass(frozen=True)
class EmbeddingsResult:
    """Every partition file one run wrote or left unchanged."""

    encoder_slug: str
    device: str
    writes: list[PartitionWrite]
    empty_bodies: int
    folders: dict[str, Path]

    def summary(self, kind: str) -> KindSummary:
        mine = [w for w in self.writes if w.kind == kind]
        return KindSummary(self.encoder_slug, self.device, sum(w.questions for w in mine),
                           sum(w.status == "written" for w in mine),
                           sum(w.status == "unchanged" for w in mine), self.empty_bodies,
                           self.folders[kind])


def embed_partition(encoder: TextEncoder, store: EmbeddingStore, day: date,
                    texts: QuestionTexts, kinds: Collection[str], force: bool = False
                    ) -> list[PartitionWrite]:
    """Write the requested kinds for ``day``; kinds whose file already holds these exact texts
    under this encoder are left alone unless ``force``. One forward pass serves both kinds."""
    started = time.monotonic()
    content = texts.content_hash(encoder.slug)
    kinds = set(kinds)
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


def embed_questions(stores: Stores, encoder_config: EncoderConfig, days: Sequence[date],
                    kinds: Collection[str], params: EmbeddingParams, log: logging.Logger
                    ) -> EmbeddingsResult:
    """Embed each day's titles and bodies into the requested kinds of partition files."""
    from so_assets.embedding.encoder import load_encoder

    encoder = load_encoder(encoder_config)
    encoder.log = log
    writes: list[PartitionWrite] = []
    empty = 0
    for day in sorted(days):
        ids, titles, bodies = stores.questions.question_texts(day)
        if blank := sum(1 for b in bodies if not b.strip()):
            log.warning("%s: %d questions have an empty body; their body vectors encode an "
                        "empty text", day, blank)
            empty += blank
        writes += embed_partition(encoder, stores.embeddings, day,
                                  QuestionTexts(ids, titles, bodies), kinds, force=params.force)
    return EmbeddingsResult(encoder.slug, str(encoder.device), writes, empty,
                            {k: stores.embeddings.folder(k) for k in kinds})


@dataclass(frozen=True)
class TagEmbeddingsResult:
    encoder_slug: str
    tags: int
    newly_embedded: int
    path: Path


def embed_tags(stores: Stores, encoder_config: EncoderConfig, log: logging.Logger
               ) -> TagEmbeddingsResult:
    """One vector per distinct tag, embedded by its name as a document (no query
    instruction); only tags not stored yet are encoded, and the union written atomically."""
    tags = [tag for tag, _ in stores.questions.tag_counts()]
    stored = stores.tag_vectors.load()
    known = set(stored.tags)
    new = sorted({t for t in tags if t not in known})
    if new:
        from so_assets.embedding.encoder import load_encoder

        encoder = load_encoder(encoder_config)
        encoder.log = log
        encoded = encoder.encode(new, is_query=False, max_length=32, label="tags").vectors
        vectors = encoded if not stored.tags else np.vstack([stored.vectors, encoded])
        stored = TagVectors([*stored.tags, *new], vectors.astype(np.float32))
        stores.tag_vectors.write(stored, encoder.slug)
    return TagEmbeddingsResult(stores.encoder_slug, len(stored.tags), len(new),
                               stores.tag_vectors.path)


def embedding_analysis(stores: Stores) -> ReportResult:
    """Nearest-neighbour cosine distribution and PCA cumulative explained variance of the
    title and body vectors (samples when large), as plots and numbers."""
    from so_assets.evaluation.embedding_analysis import analyse_field, analysis_report

    def batches(name: str):
        def fresh():
            for ids, arrays in stores.embeddings.iter_batches(VECTORS, [name]):
                yield ids, arrays[name]
        return fresh

    fields = [analyse_field(name, batches(name)) for name in ("title", "body")]
    return write_report(analysis_report(fields, stores.reports_dir / "embeddings"),
                        stores.reports_dir)
