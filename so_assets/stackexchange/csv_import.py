"""Importers for CSV exports: BigQuery ``posts_questions``, Kaggle StackSample, plain CSV.

Each streams its file and yields the same :class:`QuestionRecord` as the API client.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from so_assets.stackexchange.errors import DumpFormatError
from so_assets.stackexchange.files import csv_rows
from so_assets.stackexchange.normalize import (
    RecordError,
    answer_from_fields,
    optional_int,
    parse_time,
    question_record,
)
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord

BIGQUERY_COLUMNS = {"id", "title", "body", "creation_date", "score", "tags"}
STACKSAMPLE_COLUMNS = {"Id", "CreationDate", "Score", "Title", "Body"}
PLAIN_COLUMNS = {"id", "title", "content", "tags"}


def iter_bigquery_questions(
    path: Path,
    site: str = "stackoverflow",
    start: datetime | None = None,
    end: datetime | None = None,
    answers_path: Path | None = None,
) -> Iterator[QuestionRecord]:
    """Rows of a ``posts_questions`` export (tags joined by ``|``), as the file lists them.

    With ``answers_path`` (a ``posts_answers`` export) the accepted answers' score, date and
    length are joined in; without it only ``accepted_answer_id`` is known.
    """
    rows = []
    with csv_rows(path, BIGQUERY_COLUMNS) as reader:
        for row in reader:
            if _inside(row["creation_date"], start, end, path):
                rows.append(row)
    answers = _answers_by_id(answers_path, {optional_int(r.get("accepted_answer_id"))
                                            for r in rows}) if answers_path else {}
    for row in rows:
        accepted = optional_int(row.get("accepted_answer_id"))
        yield _checked(path, lambda row=row, accepted=accepted: question_record(
            question_id=row["id"], site=site, source="bigquery_csv",
            creation_date=row["creation_date"], title=row["title"], body_html=row["body"],
            tags=row["tags"], score=row["score"], answer=answers.get(accepted),
            accepted_answer_id=accepted, view_count=row.get("view_count"),
            answer_count=row.get("answer_count"),
            last_activity_date=row.get("last_activity_date"),
            owner_user_id=row.get("owner_user_id"),
        ))


def iter_stacksample_questions(
    questions_path: Path,
    tags_path: Path,
    site: str = "stackoverflow",
    start: datetime | None = None,
    end: datetime | None = None,
    encoding: str = "latin-1",
) -> Iterator[QuestionRecord]:
    """Kaggle StackSample: ``Questions.csv`` joined with ``Tags.csv`` (one row per tag).

    StackSample has no accepted-answer flag, so the answer columns stay empty.
    """
    rows: dict[int, dict[str, str]] = {}
    with csv_rows(questions_path, STACKSAMPLE_COLUMNS, encoding) as reader:
        for row in reader:
            if _inside(row["CreationDate"], start, end, questions_path):
                rows[int(row["Id"])] = row
    tags: dict[int, list[str]] = {qid: [] for qid in rows}
    with csv_rows(tags_path, {"Id", "Tag"}, encoding) as reader:
        for row in reader:
            if (qid := int(row["Id"])) in tags:
                tags[qid].append(row["Tag"])
    for qid, row in rows.items():
        yield _checked(questions_path, lambda qid=qid, row=row: question_record(
            question_id=qid, site=site, source="stacksample_csv",
            creation_date=row["CreationDate"], title=row["Title"], body_html=row["Body"],
            tags=tags[qid], score=row["Score"], owner_user_id=row.get("OwnerUserId"),
        ))


def iter_plain_csv_questions(
    path: Path,
    creation_date: datetime,
    site: str = "unknown",
) -> Iterator[QuestionRecord]:
    """``id,title,content,tags`` files (tags space-separated, content HTML, no dates or scores).

    Such files carry no creation date, so every record gets ``creation_date``.
    """
    with csv_rows(path, PLAIN_COLUMNS) as reader:
        for row in reader:
            yield _checked(path, lambda row=row: question_record(
                question_id=row["id"], site=site, source="plain_csv",
                creation_date=creation_date, title=row["title"], body_html=row["content"],
                tags=row["tags"].split(), score=0,
            ))


def _answers_by_id(path: Path, wanted: set[int | None]) -> dict[int, AcceptedAnswer]:
    found: dict[int, AcceptedAnswer] = {}
    with csv_rows(path, {"id", "parent_id", "creation_date", "score", "body"}) as reader:
        for row in reader:
            if int(row["id"]) in wanted:
                answer = answer_from_fields(row["id"], row["parent_id"], row["score"],
                                            row["creation_date"], row["body"])
                found[answer.answer_id] = answer
    return found


def _inside(value: str, start: datetime | None, end: datetime | None, path: Path) -> bool:
    if start is None and end is None:
        return True
    try:
        moment = parse_time(value)
    except RecordError as exc:
        raise DumpFormatError(f"{path}: {exc}") from exc
    if moment is None:
        raise DumpFormatError(f"{path}: a row has no creation date")
    return (start is None or moment >= start) and (end is None or moment < end)


def _checked(path: Path, build) -> QuestionRecord:
    try:
        return build()
    except RecordError as exc:
        raise DumpFormatError(f"{path}: {exc}") from exc
