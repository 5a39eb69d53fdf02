"""Per-day prediction tables over long ranges: busy days counted and empty days cleared with
one query each, days replaced a batch at a time in one transaction, and per-day counts kept
out of a run's metadata (Dagster copies a run's metadata into every partition's event:
thousands of days made that quadratic)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from so_assets.defs.metadata import result_metadata
from so_assets.stackexchange.sample import SampleTransport
from so_assets.steps.predictions import PredictionsResult
from so_assets.storage.datasets import question_counts
from so_assets.storage.predictions import clear_days, replace_day_rows
from so_assets.storage.question_store import QuestionStore
from so_assets.storage.questions_refresh import refresh_questions
from so_assets_tests.conftest import sample_batches


def test_days_with_questions_and_clearing_the_others(tmp_path):
    store = QuestionStore(tmp_path / "q.duckdb")
    loaded = SampleTransport().days()[:3]
    store.replace_partitions(list(sample_batches(loaded)), "sample", "stackoverflow")
    refresh_questions(store)
    years = [loaded[0] - timedelta(days=400) + timedelta(days=i) for i in range(800)]
    counts = question_counts(store, years)
    with duckdb.connect(str(store.path), read_only=True) as con:
        assert counts == dict(con.execute("SELECT creation_day, count(*) FROM questions "
                                          "GROUP BY ALL").fetchall())
    assert set(counts) == set(loaded) and all(counts.values())
    noon = datetime(loaded[1].year, loaded[1].month, loaded[1].day, 12)
    assert set(question_counts(store, years, created_after=noon)) == {loaded[1], loaded[2]}
    assert question_counts(store, []) == {}

    def row(question: int) -> dict[str, list]:
        return {"question_id": [question], "model": ["m"], "version": ["v"],
                "horizon_days": [365.0], "score": [1.0], "low": [None], "high": [None],
                "predicted_at": [noon]}

    assert replace_day_rows(store, "score_predictions", {loaded[0]: row(1), years[0]: row(2),
                                                         loaded[2]: row(3)}) == 3
    # a later batch replaces its own days exactly: one day emptied, one rewritten
    assert replace_day_rows(store, "score_predictions", {loaded[2]: {}, years[0]: row(4)}) == 1
    with duckdb.connect(str(store.path), read_only=True) as con:
        assert sorted(con.execute("SELECT creation_day, question_id FROM score_predictions"
                                  ).fetchall()) == [(years[0], 4), (loaded[0], 1)]
    clear_days(store, "score_predictions", [d for d in years if d not in set(loaded)])
    with duckdb.connect(str(store.path), read_only=True) as con:
        left = con.execute("SELECT creation_day FROM score_predictions").fetchall()
    assert left == [(loaded[0],)]


def test_per_day_counts_stay_out_of_the_runs_metadata():
    days = {date(2010, 1, 1) + timedelta(days=i): i % 3 for i in range(4000)}
    metadata = result_metadata(PredictionsResult("knn_votes", "v1", 4000, 4000, days))
    assert set(metadata) == {"model", "version", "questions", "rows"}
