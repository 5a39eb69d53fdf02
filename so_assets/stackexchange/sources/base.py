"""What every source of questions is: day batches, a summary, and how to recognise its file."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import ClassVar

from so_assets.stackexchange.files import FileHead
from so_assets.stackexchange.records import QuestionRecord, SkipLog


@dataclass(frozen=True, slots=True)
class DayBatch:
    """All questions a source has for one creation day, and how many it said it had."""

    day: date
    records: list[QuestionRecord]
    reported_count: int
    quota_remaining: int | None = None
    skipped: SkipLog = field(default_factory=SkipLog)


@dataclass(frozen=True)
class DatasetSummary:
    """What a source holds: its creation-day range, question count and tag frequencies."""

    first_day: date
    last_day: date
    questions: int
    tag_counts: dict[str, int]
    has_scores: bool


@dataclass(frozen=True, kw_only=True)
class Source(ABC):
    """One kind of source. Subclasses are frozen dataclasses whose fields are their options;
    the class attributes say how the pipeline treats them."""

    kind: ClassVar[str]
    description: ClassVar[str]
    writes_day_by_day: ClassVar[bool] = False
    """True when days arrive one by one (the API): each is written as soon as it is complete.
    File sources are read whole and all their days written in one transaction."""
    has_scores: ClassVar[bool] = True
    """False for formats without question scores (their score column is all zeros)."""

    site: str = "stackoverflow"

    @classmethod
    def sniff(cls, head: FileHead) -> bool:
        """Whether ``head`` (the start of a file, or a folder) is in this source's format."""
        return False

    @abstractmethod
    def day_batches(self, days: Sequence[date], log: logging.Logger) -> Iterator[DayBatch]:
        """One complete batch per requested day, in day order."""

    @abstractmethod
    def summarize(self) -> DatasetSummary:
        """One streaming pass over everything the source holds."""

    def location(self) -> str:
        """Where the questions come from, for logs and metadata."""
        return self.kind


@dataclass(frozen=True, kw_only=True)
class FileSource(Source):
    """A file read whole: questions of any window, streamed, then grouped by day."""

    path: str

    @abstractmethod
    def records(self, start: datetime | None, end: datetime | None, skipped: SkipLog
                ) -> Iterator[QuestionRecord]:
        """Questions created in ``[start, end)``; bad items are recorded in ``skipped``."""

    def location(self) -> str:
        return str(self.path)

    def day_batches(self, days: Sequence[date], log: logging.Logger) -> Iterator[DayBatch]:
        days = sorted(days)
        if not days:
            return
        start = datetime(days[0].year, days[0].month, days[0].day)
        end = datetime(days[-1].year, days[-1].month, days[-1].day) + timedelta(days=1)
        by_day: dict[date, list[QuestionRecord]] = {day: [] for day in days}
        skipped = SkipLog()
        started = time.monotonic()
        for count, record in enumerate(self.records(start, end, skipped), start=1):
            if record.creation_day in by_day:
                by_day[record.creation_day].append(record)
            if count % 100_000 == 0:
                log.info("%s: %d questions read (%.0f/s)", self.path, count,
                         count / max(time.monotonic() - started, 1e-9))
        if skipped.count:
            log.warning("%s: skipped %d bad items, e.g. %s", self.path, skipped.count,
                        "; ".join(skipped.examples[:3]))
        for day in days:
            mine = skipped if day == days[0] else SkipLog()  # reported once per read
            yield DayBatch(day, by_day[day], len(by_day[day]), skipped=mine)

    def summarize(self) -> DatasetSummary:
        return summarize_records(self.records(None, None, SkipLog()), self.location(),
                                 self.has_scores)


def summarize_records(records: Iterator[QuestionRecord], where: str, has_scores: bool
                      ) -> DatasetSummary:
    """Day range, distinct questions and tag counts of a stream of records."""
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
        raise ValueError(f"{where}: no questions found")
    return DatasetSummary(first, last, len(seen), counts, has_scores)



def in_window(moment: datetime, start: datetime | None, end: datetime | None) -> bool:
    """Whether ``moment`` lies in ``[start, end)`` (an open end when None)."""
    return (start is None or moment >= start) and (end is None or moment < end)
