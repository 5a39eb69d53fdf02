"""The questions table: de-duplicated, cleaned, refreshed only where raw data changed."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from so_assets.stackexchange.sample import SampleTransport
from so_assets.stackexchange.sources import DayBatch
from so_assets.storage.question_store import QuestionStore
from so_assets.storage.questions_refresh import refresh_questions
from so_assets_tests.conftest import sample_batches


@pytest.fixture
def loaded(tmp_path):
    store = QuestionStore(tmp_path / "q.duckdb")
    batches = list(sample_batches(SampleTransport().days()[:4]))
    store.replace_partitions(batches, "sample", "stackoverflow")
    return store, batches


def rows(store, sql):
    with duckdb.connect(str(store.path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_questions_are_unique_and_cleaned(loaded):
    store, batches = loaded
    stats = refresh_questions(store)
    unique = {r.question_id for b in batches for r in b.records}
    assert stats.total_questions == len(unique) == stats.questions_written
    assert stats.duplicates_dropped == sum(len(b.records) for b in batches) - len(unique)
    assert rows(store, "SELECT count(*) - count(DISTINCT question_id) FROM questions") == [(0,)]
    bodies = rows(store, "SELECT body_text, code_block_count FROM questions")
    assert not any("<p>" in body for body, _ in bodies)
    assert any("[code]" in body and n == 1 for body, n in bodies)
    assert rows(store, "SELECT typeof(tags) FROM questions LIMIT 1") == [("VARCHAR[]",)]


def test_refresh_rebuilds_only_reloaded_days(loaded):
    store, batches = loaded
    refresh_questions(store)
    assert refresh_questions(store).days_rebuilt == 0
    changed = batches[2]
    edited = [dataclasses.replace(changed.records[0], title="A new title", question_score=99)]
    store.replace_partitions([DayBatch(changed.day, edited, 1)], "sample", "stackoverflow")
    stats = refresh_questions(store)
    assert stats.days_rebuilt == 1
    assert rows(store, f"SELECT title, score FROM questions WHERE creation_day = "
                       f"'{changed.day}'") == [("A new title", 99)]
    others = sum(len({r.question_id for r in b.records}) for b in batches if b is not changed)
    assert stats.total_questions == others + 1
    assert refresh_questions(store, full=True).days_rebuilt == len(batches)


def test_batch_size_changes_nothing_but_the_batches(loaded, caplog):
    store, _ = loaded
    refresh_questions(store, rows_per_batch=10**6)
    whole = rows(store, "SELECT * EXCLUDE (ingested_at) FROM questions ORDER BY question_id")
    with caplog.at_level("INFO"):
        stats = refresh_questions(store, full=True, rows_per_batch=1)
    assert rows(store, "SELECT * EXCLUDE (ingested_at) FROM questions "
                       "ORDER BY question_id") == whole
    assert stats.days_rebuilt == 4
    progress = [r for r in caplog.records if "days rebuilt" in r.getMessage()]
    assert progress and "4/4 days rebuilt" in progress[-1].getMessage()
