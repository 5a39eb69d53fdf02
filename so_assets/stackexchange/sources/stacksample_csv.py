"""Kaggle StackSample: ``Questions.csv`` joined with ``Tags.csv`` (one row per tag)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from so_assets.stackexchange.files import FileHead, csv_rows
from so_assets.stackexchange.normalize import RecordError, parse_int, question_record
from so_assets.stackexchange.records import QuestionRecord, SkipLog
from so_assets.stackexchange.sources.base import FileSource
from so_assets.stackexchange.sources.tabular import Row, build_records, window_rows

COLUMNS = {"Id", "CreationDate", "Score", "Title", "Body"}
ENCODING = "latin-1"  # how Kaggle published it


@dataclass(frozen=True, kw_only=True)
class StackSampleCsvSource(FileSource):
    kind = "stacksample_csv"
    description = "Kaggle StackSample Questions.csv, with tags_path = Tags.csv"

    tags_path: str
    """StackSample's Tags.csv (Id,Tag)."""

    @classmethod
    def sniff(cls, head: FileHead) -> bool:
        return {"id", "creationdate", "score", "title", "body"} <= head.columns and (
            "tags" not in head.columns)

    def records(self, start: datetime | None, end: datetime | None, skipped: SkipLog
                ) -> Iterator[QuestionRecord]:
        path = Path(self.path)
        rows = list(window_rows(path, COLUMNS, "CreationDate", start, end, skipped, ENCODING))
        tags = _tags(Path(self.tags_path), rows, skipped)

        def build(row: Row) -> QuestionRecord:
            return question_record(
                question_id=row["Id"], site=self.site, source=self.kind,
                creation_date=row["CreationDate"], title=row["Title"], body_html=row["Body"],
                tags=tags.get(row["Id"].strip(), []), score=row["Score"],
                owner_user_id=row.get("OwnerUserId"))

        return build_records(path, iter(rows), build, skipped)


def _tags(path: Path, rows: list[tuple[int, Row]], skipped: SkipLog) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {row["Id"].strip(): [] for _, row in rows}
    with csv_rows(path, {"Id", "Tag"}, ENCODING) as tag_rows:
        for line, row in tag_rows:
            try:
                key = str(parse_int(row["Id"], "Id"))
            except RecordError as exc:
                skipped.add(f"{path}:{line}", str(exc))
                continue
            if key in wanted and row.get("Tag"):
                wanted[key].append(row["Tag"])
    return wanted
