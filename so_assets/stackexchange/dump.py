"""Stream questions and their accepted answers out of a data dump's ``Posts.xml``."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from so_assets.stackexchange.errors import DumpFormatError
from so_assets.stackexchange.files import open_binary
from so_assets.stackexchange.normalize import (
    RecordError,
    answer_from_fields,
    parse_time,
    question_record,
)
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord

log = logging.getLogger(__name__)


def iter_dump_questions(
    path: Path,
    site: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[QuestionRecord]:
    """Questions created in ``[start, end)`` with accepted-answer metadata, streamed.

    The file is parsed incrementally and each row is freed after use, so memory holds only the
    window's questions still waiting for their accepted answer. Dumps list posts by Id and an
    answer's Id is above its question's, so the accepted answer comes after its question.
    """
    waiting: dict[int, dict[str, str]] = {}
    try:
        with open_binary(path) as stream:
            for row in _rows(stream):
                kind = row.get("PostTypeId")
                if kind == "1":
                    created = parse_time(row.get("CreationDate"))
                    if created is None or not _inside(created, start, end):
                        continue
                    accepted = row.get("AcceptedAnswerId")
                    if accepted:
                        waiting[int(accepted)] = row
                    else:
                        yield _record(row, site, None)
                elif kind == "2" and (question := waiting.pop(int(row["Id"]), None)):
                    answer = answer_from_fields(row["Id"], row.get("ParentId"), row.get("Score"),
                                                row.get("CreationDate"), row.get("Body"))
                    yield _record(question, site, answer)
    except ET.ParseError as exc:
        line, column = exc.position
        raise DumpFormatError(f"{path}: XML error at line {line}, column {column}: {exc}"
                              ) from exc
    except RecordError as exc:
        raise DumpFormatError(f"{path}: {exc}") from exc
    if waiting:
        log.warning("%s: %d accepted answers are not in the dump; their columns stay empty",
                    path, len(waiting))
    for row in waiting.values():
        yield _record(row, site, None)


def _rows(stream) -> Iterator[dict[str, str]]:
    parser = ET.iterparse(stream, events=("start", "end"))
    _, root = next(parser)
    if root.tag != "posts":
        raise DumpFormatError(f"root element is <{root.tag}>, expected <posts> (a Posts.xml)")
    for event, element in parser:
        if event == "end" and element.tag == "row":
            yield dict(element.attrib)
            root.clear()  # drop parsed rows: memory stays flat over a multi-GB file


def _inside(moment: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or moment >= start) and (end is None or moment < end)


def _record(row: dict[str, str], site: str, answer: AcceptedAnswer | None) -> QuestionRecord:
    return question_record(
        question_id=row.get("Id"),
        site=site,
        source="dump",
        creation_date=row.get("CreationDate"),
        title=row.get("Title"),
        body_html=row.get("Body"),
        tags=row.get("Tags"),
        score=row.get("Score"),
        answer=answer,
        accepted_answer_id=row.get("AcceptedAnswerId"),
        view_count=row.get("ViewCount"),
        answer_count=row.get("AnswerCount"),
        last_activity_date=row.get("LastActivityDate"),
        owner_user_id=row.get("OwnerUserId"),
    )
