"""``id,title,content,tags`` files (Kaggle "Transfer Learning on Stack Exchange Tags"): HTML
content, space-separated tags, no dates and no scores."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from so_assets.stackexchange.files import FileHead
from so_assets.stackexchange.normalize import question_record
from so_assets.stackexchange.records import STACKOVERFLOW_FIRST_DAY, QuestionRecord, SkipLog
from so_assets.stackexchange.sources.base import FileSource, in_window
from so_assets.stackexchange.sources.tabular import Row, build_records, window_rows

COLUMNS = {"id", "title", "content", "tags"}


@dataclass(frozen=True, kw_only=True)
class PlainCsvSource(FileSource):
    kind = "plain_csv"
    description = "an id,title,content,tags CSV (no dates: filed under one day, no scores)"
    has_scores = False

    day: str = STACKOVERFLOW_FIRST_DAY.isoformat()
    """The day every question is filed under (the file has no dates)."""

    def __post_init__(self) -> None:
        date.fromisoformat(self.day)  # a clear ValueError for a bad day

    @classmethod
    def sniff(cls, head: FileHead) -> bool:
        return head.columns >= COLUMNS

    def records(self, start: datetime | None, end: datetime | None, skipped: SkipLog
                ) -> Iterator[QuestionRecord]:
        filed_under = datetime.fromisoformat(self.day)
        if not in_window(filed_under, start, end):
            return iter(())
        path = Path(self.path)

        def build(row: Row) -> QuestionRecord:
            return question_record(
                question_id=row["id"], site=self.site, source=self.kind,
                creation_date=filed_under, title=row["title"], body_html=row["content"],
                tags=row["tags"], score=0)

        return build_records(path, window_rows(path, COLUMNS, None, None, None, skipped), build,
                             skipped)
