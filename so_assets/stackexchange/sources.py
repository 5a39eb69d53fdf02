"""One interface over every source: the questions of given UTC days, with reported counts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from so_assets.stackexchange.client import StackExchangeClient
from so_assets.stackexchange.csv_import import (
    iter_bigquery_questions,
    iter_plain_csv_questions,
    iter_stacksample_questions,
)
from so_assets.stackexchange.dump import iter_dump_questions
from so_assets.stackexchange.records import QuestionRecord
from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR, SampleTransport

SourceKind = Literal["sample", "api", "dump", "bigquery_csv", "stacksample_csv", "plain_csv"]
SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class DayBatch:
    """All questions a source has for one creation day, and how many it said it had."""

    day: date
    records: list[QuestionRecord]
    reported_count: int
    quota_remaining: int | None = None


@dataclass(frozen=True)
class SourceSpec:
    """Where questions come from. ``path`` is the file (dump, CSV) or the sample folder."""

    kind: SourceKind = "sample"
    site: str = "stackoverflow"
    path: str | None = None
    tags_path: str | None = None  # StackSample's Tags.csv
    answers_path: str | None = None  # BigQuery posts_answers export
    api_root: str | None = None
    plain_csv_date: str | None = None  # plain CSVs have no dates: the day to file them under
    max_retries: int = 5
    initial_retry_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {self.kind!r}; choose one of {SOURCE_KINDS}")
        if self.kind in ("dump", "bigquery_csv", "stacksample_csv", "plain_csv") and not self.path:
            raise ValueError(f"source {self.kind!r} needs a path to its file")
        if self.kind == "stacksample_csv" and not self.tags_path:
            raise ValueError("source 'stacksample_csv' needs tags_path (Tags.csv)")
        if self.kind == "plain_csv" and not self.plain_csv_date:
            raise ValueError("plain id,title,content,tags CSVs have no dates: set plain_csv_date")


def iter_day_batches(spec: SourceSpec, days: Sequence[date],
                     log: logging.Logger | None = None) -> Iterator[DayBatch]:
    """One batch per requested day, in order; every batch is complete before it is yielded."""
    log = log or logging.getLogger(__name__)
    days = sorted(days)
    if spec.kind in ("sample", "api"):
        yield from _client_batches(spec, days, log)
    else:
        yield from _file_batches(spec, days, log)


@dataclass(frozen=True)
class DatasetSummary:
    """What a file holds: its creation-day range, question count and tag frequencies."""

    first_day: date
    last_day: date
    questions: int
    tag_counts: dict[str, int]


def summarize(spec: SourceSpec) -> DatasetSummary:
    """One streaming pass over a file source (or the sample) to size an offline evaluation."""
    if spec.kind == "api":
        raise ValueError("the live API has no fixed extent to summarize")
    if spec.kind == "sample":
        sample_dir = Path(spec.path) if spec.path else DEFAULT_SAMPLE_DIR
        days = SampleTransport(sample_dir).days()
        records = (r for b in iter_day_batches(spec, days) for r in b.records)
    else:
        records = _file_records(spec, datetime.min, datetime.max)
    counts: dict[str, int] = {}
    seen: set[int] = set()
    first = last = None
    for record in records:
        if record.question_id in seen:
            continue
        seen.add(record.question_id)
        day = record.creation_day
        first = day if first is None or day < first else first
        last = day if last is None or day > last else last
        for tag in record.tags:
            counts[tag] = counts.get(tag, 0) + 1
    if first is None or last is None:
        raise ValueError(f"{spec.path or spec.kind}: no questions found")
    return DatasetSummary(first, last, len(seen), counts)


def make_client(spec: SourceSpec, log: logging.Logger | None = None) -> StackExchangeClient:
    """The API client for ``sample`` (answering from files) or ``api`` (over HTTP)."""
    if spec.kind == "sample":
        sample_dir = Path(spec.path) if spec.path else DEFAULT_SAMPLE_DIR
        return StackExchangeClient(SampleTransport(sample_dir), site=spec.site,
                                   api_root=f"sample://{sample_dir}", source_name="sample",
                                   log=log)
    kwargs = {"api_root": spec.api_root} if spec.api_root else {}
    return StackExchangeClient(site=spec.site, source_name="api", log=log,
                               max_retries=spec.max_retries,
                               initial_retry_seconds=spec.initial_retry_seconds, **kwargs)


def _client_batches(spec: SourceSpec, days: list[date], log: logging.Logger
                    ) -> Iterator[DayBatch]:
    client = make_client(spec, log)
    started = time.monotonic()
    for done, day in enumerate(days, start=1):
        start = datetime(day.year, day.month, day.day)
        window = client.fetch_window(start, start + timedelta(days=1))
        elapsed = time.monotonic() - started
        log.info("%s: %d questions (%d reported) | %d/%d days, %.1f days/min, ~%.0fs left, "
                 "quota_remaining=%s", day, len(window.records), window.reported_count, done,
                 len(days), 60 * done / max(elapsed, 1e-9),
                 elapsed / done * (len(days) - done), window.quota_remaining)
        yield DayBatch(day, window.records, window.reported_count, window.quota_remaining)


def _file_batches(spec: SourceSpec, days: list[date], log: logging.Logger
                  ) -> Iterator[DayBatch]:
    if not days:
        return
    start = datetime(days[0].year, days[0].month, days[0].day)
    end = datetime(days[-1].year, days[-1].month, days[-1].day) + timedelta(days=1)
    by_day: dict[date, list[QuestionRecord]] = {day: [] for day in days}
    for count, record in enumerate(_file_records(spec, start, end), start=1):
        if record.creation_day in by_day:
            by_day[record.creation_day].append(record)
        if count % 100_000 == 0:
            log.info("%s: %d questions read", spec.path, count)
    for day in days:
        yield DayBatch(day, by_day[day], len(by_day[day]))


def _file_records(spec: SourceSpec, start: datetime, end: datetime) -> Iterator[QuestionRecord]:
    path = Path(spec.path or "")
    if spec.kind == "dump":
        return iter_dump_questions(path, spec.site, start, end)
    if spec.kind == "bigquery_csv":
        answers = Path(spec.answers_path) if spec.answers_path else None
        return iter_bigquery_questions(path, spec.site, start, end, answers)
    if spec.kind == "stacksample_csv":
        return iter_stacksample_questions(path, Path(spec.tags_path or ""), spec.site, start, end)
    filed_under = datetime.fromisoformat(spec.plain_csv_date or "")
    return iter_plain_csv_questions(path, filed_under, spec.site)
