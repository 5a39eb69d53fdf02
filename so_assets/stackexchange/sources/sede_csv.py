"""Stack Exchange Data Explorer exports of the ``Posts`` table: the table's own column names,
``Tags`` as ``<a><b>``, dates like ``2022-04-18 12:44:51``; answers' rows (PostTypeId 2), when
the query kept them, fill the accepted-answer columns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from so_assets.stackexchange.files import FileHead
from so_assets.stackexchange.normalize import (
    RecordError,
    answer_from_fields,
    parse_int,
    parse_time,
    question_record,
)
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord, SkipLog
from so_assets.stackexchange.sources.base import FileSource, in_window
from so_assets.stackexchange.sources.tabular import Row, build_records, window_rows

COLUMNS = {"Id", "PostTypeId", "CreationDate", "Score", "Body", "Title", "Tags"}
REPUTATION_COLUMNS = ("OwnerReputation", "Reputation")  # when the query joined Users


@dataclass(frozen=True, kw_only=True)
class SedeCsvSource(FileSource):
    kind = "sede_csv"
    description = "a Stack Exchange Data Explorer export of the Posts table"

    @classmethod
    def sniff(cls, head: FileHead) -> bool:
        return {"id", "posttypeid", "creationdate", "title", "tags"} <= head.columns

    def records(self, start: datetime | None, end: datetime | None, skipped: SkipLog
                ) -> Iterator[QuestionRecord]:
        path = Path(self.path)
        questions: list[tuple[int, Row]] = []
        answers: dict[int, AcceptedAnswer] = {}
        for line, row in window_rows(path, COLUMNS, None, None, None, skipped):
            try:
                if row["PostTypeId"].strip() == "2":
                    answer = answer_from_fields(row["Id"], row.get("ParentId"), row["Score"],
                                                row["CreationDate"], row["Body"])
                    answers[answer.answer_id] = answer
                elif row["PostTypeId"].strip() == "1":
                    created = parse_time(row["CreationDate"], "CreationDate")
                    if created is not None and in_window(created, start, end):
                        questions.append((line, row))
            except RecordError as exc:
                skipped.add(f"{path}:{line}", str(exc))

        def build(row: Row) -> QuestionRecord:
            accepted = parse_int(row.get("AcceptedAnswerId"), "AcceptedAnswerId")
            reputation = next((row[c] for c in REPUTATION_COLUMNS if row.get(c)), None)
            return question_record(
                question_id=row["Id"], site=self.site, source=self.kind,
                creation_date=row["CreationDate"], title=row["Title"], body_html=row["Body"],
                tags=row["Tags"], score=row["Score"], answer=answers.get(accepted or -1),
                accepted_answer_id=accepted, view_count=row.get("ViewCount"),
                answer_count=row.get("AnswerCount"),
                last_activity_date=row.get("LastActivityDate"),
                owner_user_id=row.get("OwnerUserId"), owner_reputation=reputation)

        return build_records(path, iter(questions), build, skipped)
