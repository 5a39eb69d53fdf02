"""question_embeddings / question_token_embeddings, tag_embeddings and embedding_analysis."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from so_assets.embedding.config import BODY_SEGMENTS, TITLE_SEGMENTS, EncoderConfig
from so_assets.params import Params, param
from so_assets.steps.results import ReportResult, write_report
from so_assets.storage.embedding_kinds import TOKENS, VECTORS
from so_assets.storage.stores import Stores

if TYPE_CHECKING:
    from so_assets.embedding.encoder import TextEncoder
    from so_assets.storage.embedding_store import EmbeddingStore


@dataclass(frozen=True)
class EmbeddingParams(Params):
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

    def rows_per_day(self, kind: str) -> dict[date, int]:
        return {w.day: w.questions for w in self.writes if w.kind == kind}


def embed_partition(encoder: TextEncoder, store: EmbeddingStore, day: date,
                    texts: QuestionTexts, kinds: Collection[str], force: bool = False
                    ) -> list[PartitionWrite]:
    """Write the requested kinds for ``day`` (see :func:`embed_partitions`)."""
    return embed_partitions(encoder, store, {day: texts}, kinds, force)


def embed_partitions(encoder: TextEncoder, store: EmbeddingStore,
                     texts_by_day: Mapping[date, QuestionTexts], kinds: Collection[str],
                     force: bool = False) -> list[PartitionWrite]:
    """Write the requested kinds of each day's file; kinds whose file already holds these exact
    texts under this encoder are left alone unless ``force``. The days' texts are encoded
    together (sparse days cost one batch, not one batch each), and one forward pass serves
    both kinds; each day's file is then written on its own."""
    started = time.monotonic()
    kinds = set(kinds)
    results: list[PartitionWrite] = []
    todo: dict[date, set[str]] = {}
    hashes: dict[date, str] = {}
    for day, texts in sorted(texts_by_day.items()):
        hashes[day] = texts.content_hash(encoder.slug)
        todo[day] = {k for k in kinds
                     if force or store.attrs(k, day).get("content_hash") != hashes[day]}
        results += [PartitionWrite(k, day, len(texts.titles), "unchanged",
                                   str(store.path(k, day)), 0.0) for k in sorted(kinds - todo[day])]
    days = [day for day in sorted(todo) if todo[day]]
    if not days:
        return results
    with_tokens = any(TOKENS in todo[day] for day in days)
    label = f"{days[0]}" if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"
    title = encoder.encode([t for d in days for t in texts_by_day[d].titles], is_query=True,
                           max_length=encoder.config.title_max_length,
                           segments=TITLE_SEGMENTS if with_tokens else 0,
                           label=f"{label} titles")
    body = encoder.encode([b for d in days for b in texts_by_day[d].bodies], is_query=True,
                          segments=BODY_SEGMENTS if with_tokens else 0, label=f"{label} bodies")
    lo = 0
    for day in days:
        texts = texts_by_day[day]
        rows = slice(lo, lo + len(texts.titles))
        lo = rows.stop
        attrs = {"encoder_slug": encoder.slug, "model": encoder.config.resolved_model(),
                 "pooling": encoder.config.pooling, "content_hash": hashes[day],
                 "day": day.isoformat(), "written_at": datetime.now(UTC).isoformat(),
                 "dimension": encoder.dimension}
        ids = texts.question_ids.astype(np.int64)
        if VECTORS in todo[day]:
            path = store.write(VECTORS, day, {"question_id": ids, "title": title.vectors[rows],
                                              "body": body.vectors[rows]}, attrs)
            results.append(PartitionWrite(VECTORS, day, len(ids), "written", str(path),
                                          time.monotonic() - started))
        if TOKENS in todo[day]:
            path = store.write(TOKENS, day, {
                "question_id": ids, "title": title.segments[rows],
                "title_mask": title.segment_mask[rows], "body": body.segments[rows],
                "body_mask": body.segment_mask[rows],
            }, {**attrs, "pooling_of_segments": "chunk-mean of token states"})
            results.append(PartitionWrite(TOKENS, day, len(ids), "written", str(path),
                                          time.monotonic() - started))
    return results


TEXTS_PER_ENCODING = 2048
"""Days are encoded together until they hold this many questions (a day is never split)."""


def _chunks(per_day: Mapping[date, int], size: int) -> list[list[date]]:
    """Consecutive days grouped until a group holds about ``size`` questions."""
    chunks: list[list[date]] = [[]]
    held = 0
    for day in sorted(per_day):
        if chunks[-1] and held + per_day[day] > size:
            chunks.append([])
            held = 0
        chunks[-1].append(day)
        held += per_day[day]
    return [c for c in chunks if c]


def embed_questions(stores: Stores, encoder_config: EncoderConfig, days: Sequence[date],
                    kinds: Collection[str], params: EmbeddingParams, log: logging.Logger
                    ) -> EmbeddingsResult:
    """Embed each day's titles and bodies into the requested kinds of partition files."""
    from so_assets.embedding.encoder import load_encoder

    with load_encoder(encoder_config).logging_to(log) as encoder:
        writes, empty = _embed_days(stores, encoder, days, kinds, params, log)
    return EmbeddingsResult(encoder.slug, str(encoder.device), writes, empty,
                            {k: stores.embeddings.folder(k) for k in kinds})


def _embed_days(stores: Stores, encoder: TextEncoder, days: Sequence[date],
                kinds: Collection[str], params: EmbeddingParams, log: logging.Logger
                ) -> tuple[list[PartitionWrite], int]:
    writes: list[PartitionWrite] = []
    empty = 0
    for chunk in _chunks(stores.questions.questions_per_day(sorted(days)), TEXTS_PER_ENCODING):
        texts = {day: QuestionTexts(*columns)
                 for day, columns in stores.questions.question_texts_by_day(chunk).items()}
        for day, day_texts in texts.items():
            if blank := sum(1 for b in day_texts.bodies if not b.strip()):
                log.warning("%s: %d questions have an empty body; their body vectors encode "
                            "an empty text", day, blank)
                empty += blank
        writes += embed_partitions(encoder, stores.embeddings, texts, kinds, force=params.force)
    return writes, empty


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

        with load_encoder(encoder_config).logging_to(log) as encoder:
            encoded = encoder.encode(new, is_query=False, max_length=32, label="tags").vectors
        vectors = encoded if not stored.tags else np.vstack([stored.vectors, encoded])
        from so_assets.storage.tag_vector_store import TagVectors

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
