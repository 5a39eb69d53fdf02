"""BigQuery ``bigquery-public-data.stackoverflow.posts_questions`` exports (tags joined by
``|``), with an optional ``posts_answers`` export for the accepted answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from so_assets.stackexchange.files import FileHead, csv_rows
from so_assets.stackexchange.normalize import (
    RecordError,
    answer_from_fields,
    parse_int,
    question_record,
)
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord, SkipLog
from so_assets.stackexchange.sources.base import FileSource
from so_assets.stackexchange.sources.tabular import Row, build_records, window_rows

COLUMNS = {"id", "title", "body", "creation_date", "score", "tags"}
ANSWER_COLUMNS = {"id", "parent_id", "creation_date", "score", "body"}


@dataclass(frozen=True, kw_only=True)
class BigQueryCsvSource(FileSource):
    kind = "bigquery_csv"
    description = "a BigQuery posts_questions CSV export (tags joined by |)"

    answers_path: str | None = None
    """A posts_answers export: fills the accepted-answer columns."""

    @classmethod
    def sniff(cls, head: FileHead) -> bool:
        return {"id", "title", "body", "creation_date", "tags"} <= head.columns

    def records(self, start: datetime | None, end: datetime | None, skipped: SkipLog
                ) -> Iterator[QuestionRecord]:
        path = Path(self.path)
        rows = list(window_rows(path, COLUMNS, "creation_date", start, end, skipped))
        answers: dict[int, AcceptedAnswer] = {}
        if self.answers_path:
            wanted = set()
            for line, row in rows:
                try:
                    wanted.add(parse_int(row.get("accepted_answer_id"), "accepted_answer_id"))
                except RecordError as exc:
                    skipped.add(f"{path}:{line}", str(exc))
            answers = _answers_by_id(Path(self.answers_path), wanted, skipped)

        def build(row: Row) -> QuestionRecord:
            accepted = parse_int(row.get("accepted_answer_id"), "accepted_answer_id")
            return question_record(
                question_id=row["id"], site=self.site, source=self.kind,
                creation_date=row["creation_date"], title=row["title"], body_html=row["body"],
                tags=row["tags"], score=row["score"], answer=answers.get(accepted),
                accepted_answer_id=accepted, view_count=row.get("view_count"),
                answer_count=row.get("answer_count"),
                last_activity_date=row.get("last_activity_date"),
                owner_user_id=row.get("owner_user_id"),
                owner_reputation=row.get("owner_reputation"))

        return build_records(path, iter(rows), build, skipped)


def _answers_by_id(path: Path, wanted: set[int | None], skipped: SkipLog
                   ) -> dict[int, AcceptedAnswer]:
    found: dict[int, AcceptedAnswer] = {}
    with csv_rows(path, ANSWER_COLUMNS) as rows:
        for line, row in rows:
            try:
                if parse_int(row["id"], "answer id") in wanted:
                    answer = answer_from_fields(row["id"], row["parent_id"], row["score"],
                                                row["creation_date"], row["body"])
                    found[answer.answer_id] = answer
            except RecordError as exc:
                skipped.add(f"{path}:{line}", str(exc))
    return found
