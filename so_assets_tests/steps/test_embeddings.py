"""The embedding steps on real HDF5 files: shapes, values, skip-once, slugs, streaming reads,
tag vectors extended incrementally."""

from __future__ import annotations

import logging
from datetime import date

import h5py
import numpy as np
import pytest

from so_assets.embedding.config import EncoderConfig
from so_assets.stackexchange.html_text import html_to_text
from so_assets.stackexchange.sample import SampleTransport
from so_assets.steps.embeddings import (
    QuestionTexts,
    embed_partition,
    embed_partitions,
    embed_tags,
)
from so_assets.storage.embedding_store import TOKENS, VECTORS, EmbeddingStore
from so_assets.storage.questions_refresh import refresh_questions
from so_assets.storage.stores import Stores
from so_assets_tests.conftest import sample_batches

DAYS = SampleTransport().days()[:2]


@pytest.fixture(scope="module")
def texts() -> dict[date, QuestionTexts]:
    out = {}
    for batch in sample_batches(DAYS):
        unique = {r.question_id: r for r in batch.records}
        ids = sorted(unique)[:12]
        out[batch.day] = QuestionTexts(np.array(ids), [unique[i].title for i in ids],
                                       [html_to_text(unique[i].question_text) for i in ids])
    return out


def test_partition_files_have_the_design_shapes(minilm, texts, tmp_path):
    store = EmbeddingStore(tmp_path, minilm.slug)
    day = DAYS[0]
    writes = embed_partition(minilm, store, day, texts[day], {VECTORS, TOKENS})
    assert {w.status for w in writes} == {"written"}
    with h5py.File(store.path(VECTORS, day)) as h5:
        assert h5["title"].shape == (12, 384) and h5["body"].shape == (12, 384)
        assert h5["title"].dtype == np.float32
        assert h5.attrs["encoder_slug"] == minilm.slug
        assert list(h5["question_id"][:]) == list(texts[day].question_ids)
        expected = minilm.encode([texts[day].titles[5]], is_query=True,
                                 max_length=minilm.config.title_max_length).vectors
        # in bf16 (the default on AMX CPUs) batching moves a vector by rounding only
        assert float(h5["title"][5] @ expected[0]) > 0.999
    with h5py.File(store.path(TOKENS, day)) as h5:
        assert h5["title"].shape == (12, 4, 384) and h5["body"].shape == (12, 32, 384)
        assert h5["title_mask"].shape == (12, 4) and h5["body_mask"].dtype == bool
        assert h5["body"].chunks == (1, 32, 384) and h5["body"].compression == "gzip"
        assert h5["title_mask"][:].all()  # titles have more than 4 tokens


def test_days_encoded_together_equal_days_encoded_alone(minilm, texts, tmp_path):
    alone, together = (EmbeddingStore(tmp_path / name, minilm.slug) for name in "ab")
    for day in DAYS:
        embed_partition(minilm, alone, day, texts[day], {VECTORS, TOKENS})
    empty_day = date(2001, 1, 1)
    batch = {**texts, empty_day: QuestionTexts(np.zeros(0, np.int64), [], [])}
    writes = embed_partitions(minilm, together, batch, {VECTORS, TOKENS})
    assert {(w.day, w.kind) for w in writes} == {(d, k) for d in batch for k in (VECTORS, TOKENS)}
    for day in DAYS:
        for kind, fields in ((VECTORS, ("question_id", "title", "body")),
                             (TOKENS, ("title", "title_mask", "body", "body_mask"))):
            with h5py.File(alone.path(kind, day)) as a, h5py.File(together.path(kind, day)) as b:
                for name in fields:
                    x, y = a[name][:], b[name][:]
                    if x.dtype != np.float32:  # ids and masks: exactly
                        assert np.array_equal(x, y), (day, kind, name)
                        continue
                    # the same vectors up to rounding (bf16, the default on AMX CPUs, rounds
                    # differently in differently padded batches); zero (masked) rows stay zero
                    cosine = (x * y).sum(-1)
                    present = np.abs(x).sum(-1) > 0
                    assert cosine[present].min() > 0.999, (day, kind, name)
                    assert np.array_equal(present, np.abs(y).sum(-1) > 0), (day, kind, name)
    with h5py.File(together.path(VECTORS, empty_day)) as h5:
        assert h5["title"].shape[0] == 0


def test_a_partition_is_embedded_once_per_encoder_and_content(minilm, texts, tmp_path):
    store = EmbeddingStore(tmp_path, minilm.slug)
    for day in DAYS:
        embed_partition(minilm, store, day, texts[day], {VECTORS})
    stamps = {day: store.path(VECTORS, day).stat().st_mtime_ns for day in DAYS}
    again = embed_partition(minilm, store, DAYS[0], texts[DAYS[0]], {VECTORS})
    assert [w.status for w in again] == ["unchanged"]
    before = texts[DAYS[1]]
    changed = QuestionTexts(before.question_ids, ["A new title", *before.titles[1:]],
                            before.bodies)
    assert [w.status for w in embed_partition(minilm, store, DAYS[1], changed, {VECTORS})] == [
        "written"]
    assert store.path(VECTORS, DAYS[0]).stat().st_mtime_ns == stamps[DAYS[0]]
    assert store.path(VECTORS, DAYS[1]).stat().st_mtime_ns != stamps[DAYS[1]]
    forced = embed_partition(minilm, store, DAYS[0], texts[DAYS[0]], {VECTORS}, force=True)
    assert [w.status for w in forced] == ["written"]


def test_another_encoder_writes_under_its_own_slug(minilm, texts, tmp_path):
    other = EncoderConfig(max_length=32).slug()
    assert other != minilm.slug
    embed_partition(minilm, EmbeddingStore(tmp_path, minilm.slug), DAYS[0], texts[DAYS[0]],
                    {VECTORS})
    assert EmbeddingStore(tmp_path, other).days(VECTORS) == []
    assert [p.name for p in tmp_path.iterdir()] == [minilm.slug]


def test_reader_streams_selected_ids_across_partitions(minilm, texts, tmp_path):
    store = EmbeddingStore(tmp_path, minilm.slug)
    for day in DAYS:
        embed_partition(minilm, store, day, texts[day], {VECTORS})
    wanted = [int(texts[DAYS[0]].question_ids[3]), int(texts[DAYS[1]].question_ids[0]),
              int(texts[DAYS[1]].question_ids[7]), 1]  # 1 is nowhere
    batches = list(store.iter_batches(VECTORS, ["title"], question_ids=wanted, batch_size=1))
    assert [int(ids[0]) for ids, _ in batches] == sorted(wanted[:3])
    with h5py.File(store.path(VECTORS, DAYS[1])) as h5:
        assert np.array_equal(batches[2][1]["title"][0], h5["title"][7])
    everything = list(store.iter_batches(VECTORS, ["body"], batch_size=5))
    assert sum(len(ids) for ids, _ in everything) == 24
    assert max(len(ids) for ids, _ in everything) == 5


def test_tag_vectors_extend_without_re_embedding(minilm, tmp_path):
    stores = Stores(tmp_path, minilm.slug)
    days = SampleTransport().days()
    log = logging.getLogger("test")
    stores.questions.replace_partitions(sample_batches(days[:1]), "sample", "stackoverflow")
    refresh_questions(stores.questions)
    first = embed_tags(stores, minilm.config, log)
    vectors = stores.tag_vectors.load()
    assert first.newly_embedded == first.tags == len(vectors.tags) > 10
    assert vectors.vectors.shape == (first.tags, 384)
    stores.questions.replace_partitions(sample_batches(days), "sample", "stackoverflow")
    refresh_questions(stores.questions)
    second = embed_tags(stores, minilm.config, log)
    grown = stores.tag_vectors.load()
    assert 0 < second.newly_embedded == second.tags - first.tags
    assert grown.tags[: first.tags] == vectors.tags
    assert np.array_equal(grown.vectors[: first.tags], vectors.vectors)
    assert embed_tags(stores, minilm.config, log).newly_embedded == 0
    python = minilm.encode(["python"], max_length=32).vectors[0]
    # bf16 rounding differs between a batch and a text alone
    assert float(grown.vectors[grown.lookup()["python"]] @ python) > 0.999
    with pytest.raises(ValueError, match="materialize tag_embeddings"):
        grown.select(["python", "no-such-tag"])
