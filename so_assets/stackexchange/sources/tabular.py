"""What the CSV sources share: rows of a creation window, each built into a record or skipped
with its file and line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from so_assets.stackexchange.files import csv_rows
from so_assets.stackexchange.normalize import RecordError, parse_time
from so_assets.stackexchange.records import QuestionRecord, SkipLog
from so_assets.stackexchange.sources.base import in_window

Row = dict[str, str]


def window_rows(path: Path, required: set[str], date_column: str | None,
                start: datetime | None, end: datetime | None, skipped: SkipLog,
                encoding: str = "utf-8") -> Iterator[tuple[int, Row]]:
    """(line, row) of the rows created in ``[start, end)``; a row missing a required field or
    with an unreadable date is skipped and recorded."""
    with csv_rows(path, required, encoding) as rows:
        for line, row in rows:
            if missing := sorted(c for c in required if row.get(c) is None):
                skipped.add(f"{path}:{line}", f"the row ends before column(s) {missing}")
                continue
            if date_column is None or (start is None and end is None):
                yield line, row
                continue
            try:
                created = parse_time(row[date_column], date_column)
            except RecordError as exc:
                skipped.add(f"{path}:{line}", str(exc))
                continue
            if created is None:
                skipped.add(f"{path}:{line}", f"no {date_column}")
            elif in_window(created, start, end):
                yield line, row


def build_records(path: Path, rows: Iterator[tuple[int, Row]],
                  build: Callable[[Row], QuestionRecord], skipped: SkipLog
                  ) -> Iterator[QuestionRecord]:
    """``build(row)`` for every row; a row it rejects is skipped and recorded with its line."""
    for line, row in rows:
        try:
            yield build(row)
        except RecordError as exc:
            skipped.add(f"{path}:{line}", str(exc))
