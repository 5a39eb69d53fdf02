"""The ingestion checks on a real DuckDB file: empty days on a busy site, skipped items."""

from __future__ import annotations

from datetime import timedelta

from so_assets.stackexchange.records import SkipLog
from so_assets.stackexchange.sample import SampleTransport
from so_assets.stackexchange.sources import DayBatch
from so_assets.steps.ingestion import no_skipped_items, no_unexpected_empty_days
from so_assets.storage.stores import Stores
from so_assets_tests.conftest import sample_batches


def test_an_empty_day_on_a_busy_site_is_flagged(tmp_path):
    stores = Stores(tmp_path, "slug")
    batches = sample_batches(SampleTransport().days()[:3])
    stores.questions.replace_partitions(batches, "sample", "stackoverflow")
    assert no_unexpected_empty_days(stores).passed

    after = batches[-1].day + timedelta(days=30)  # what the schedule pulls past the sample
    stores.questions.replace_partitions([DayBatch(after, [], 0)], "sample", "stackoverflow")
    outcome = no_unexpected_empty_days(stores)
    assert not outcome.passed
    assert outcome.details["suspect_days"] == [str(after)]
    assert outcome.details["median_questions_per_nonempty_day"] >= 5


def test_empty_days_of_a_quiet_site_are_normal(tmp_path):
    stores = Stores(tmp_path, "slug")
    quiet = [DayBatch(b.day, b.records[:1], 1) for b in sample_batches(
        SampleTransport().days()[:3])]
    empty = DayBatch(quiet[-1].day + timedelta(days=1), [], 0)
    stores.questions.replace_partitions([*quiet, empty], "sample", "beer")
    assert no_unexpected_empty_days(stores).passed


def test_skipped_items_are_reported_by_day(tmp_path):
    stores = Stores(tmp_path, "slug")
    batch = sample_batches(SampleTransport().days()[:1])[0]
    assert no_skipped_items(stores).passed is True
    skipped = SkipLog()
    skipped.add("row 7", "Id 'x' is not an integer")
    stores.questions.replace_partitions(
        [DayBatch(batch.day, batch.records, batch.reported_count, skipped=skipped)],
        "plain_csv", "stackoverflow")
    outcome = no_skipped_items(stores)
    assert not outcome.passed
    assert outcome.details == {"skipped_items": 1, "days": {str(batch.day): 1}}
