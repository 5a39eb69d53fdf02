"""What the CSV sources share: rows of a creation window, each built into a record or skipped
with its file and line."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from so_assets.stackexchange.files import csv_rows
from so_assets.stackexchange.normalize import RecordError, parse_time
from so_assets.stackexchange.records import QuestionRecord, SkipLog
from so_assets.stackexchange.sources.base import in_window

Row = dict[str, str]

_RECORD_START = re.compile(r'^\s*"?\d+"?,')
"""How a row of every CSV export starts: its numeric id and a comma."""


def _row_id(text: str, width: int) -> int | None:
    """The id of a line inside a field when the line is a whole row of the file (an id
    first, as many fields as the header), else None."""
    if not _RECORD_START.match(text):
        return None
    try:
        fields = next(csv.reader([text]))
    except csv.Error:
        return None
    return int(fields[0].strip().strip('"')) if len(fields) == width else None


def _swallowed_lines(row: Row, first: int, own_id: str | None) -> list[int]:
    """The lines of other rows a field holds: a stray quote that never closed made one row of
    several. A line counts when it is a whole row whose id comes after this row's (exports
    list rows by id; a body's "0, 0, 1" matrix line is no row), and then also the field's
    last line when it starts with a later id (the row whose opening quote closed the stray
    one)."""
    try:
        after = int(str(own_id).strip())
    except ValueError:
        return []
    width = sum(1 for key in row if key is not None)
    found, offset = [], 0
    for value in row.values():
        if isinstance(value, str) and "\n" in value:
            lines = value.split("\n")
            whole = [k for k, text in enumerate(lines[1:], start=1)
                     if (ident := _row_id(text, width)) is not None and ident > after]
            closing = len(lines) - 1  # where the quote met the next row's opening quote
            if whole and closing not in whole and _RECORD_START.match(lines[closing]) and \
                    int(lines[closing].split(",")[0].strip().strip('"')) > after:
                whole.append(closing)
            found += [first + offset + k for k in whole]
            offset += len(lines) - 1
    return sorted(set(found))


def window_rows(path: Path, required: set[str], date_column: str | None,
                start: datetime | None, end: datetime | None, skipped: SkipLog,
                encoding: str = "utf-8") -> Iterator[tuple[int, Row]]:
    """(line, row) of the rows created in ``[start, end)``; a row missing a required field or
    with an unreadable date is skipped and recorded."""
    with csv_rows(path, required, encoding) as rows:
        previous = 1  # the header's line
        for line, row in rows:
            first, previous = previous + 1, line
            if swallowed := _swallowed_lines(row, first, next(iter(row.values()), None)):
                skipped.add(f"{path}:{first}", f"an unclosed quote here swallows the rows of "
                                               f"line(s) {', '.join(map(str, swallowed))}")
                for lost in swallowed:
                    skipped.add(f"{path}:{lost}", f"swallowed by the unclosed quote of line "
                                                  f"{first}")
                continue
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
