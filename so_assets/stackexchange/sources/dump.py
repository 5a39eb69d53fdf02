"""An official data dump: questions and their accepted answers streamed out of ``Posts.xml``,
the askers' reputation out of ``Users.xml`` when it is named."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from so_assets.stackexchange.errors import DumpFormatError
from so_assets.stackexchange.files import FileHead, open_binary
from so_assets.stackexchange.normalize import (
    RecordError,
    answer_from_fields,
    parse_int,
    parse_time,
    question_record,
)
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord, SkipLog
from so_assets.stackexchange.sources.base import FileSource, in_window

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DumpSource(FileSource):
    kind = "dump"
    description = "an official data dump's Posts.xml (or .zip/.gz), streamed"

    users_path: str | None = None
    """The dump's Users.xml: fills owner_reputation."""

    @classmethod
    def sniff(cls, head: FileHead) -> bool:
        text = head.text.lstrip()
        return text.startswith("<posts") or (text.startswith("<?xml") and "<posts" in text)

    def records(self, start: datetime | None, end: datetime | None, skipped: SkipLog
                ) -> Iterator[QuestionRecord]:
        reputation = _reputations(Path(self.users_path)) if self.users_path else {}
        return iter_dump_questions(Path(self.path), self.site, start, end, skipped, reputation)


def iter_dump_questions(path: Path, site: str, start: datetime | None = None,
                        end: datetime | None = None, skipped: SkipLog | None = None,
                        reputation: dict[int, int] | None = None) -> Iterator[QuestionRecord]:
    """Questions created in ``[start, end)`` with accepted-answer metadata, streamed.

    The file is parsed incrementally and each row is freed after use, so memory holds only the
    window's questions still waiting for their accepted answer. Dumps list posts by Id and an
    answer's Id is above its question's, so the accepted answer comes after its question.
    A row whose values cannot be read is skipped and recorded in ``skipped``.
    """
    skipped = skipped if skipped is not None else SkipLog()
    reputation = reputation or {}
    waiting: dict[int, dict[str, str]] = {}

    def build(row: dict[str, str], answer: AcceptedAnswer | None) -> QuestionRecord | None:
        try:
            return _record(row, site, answer, reputation)
        except RecordError as exc:
            skipped.add(f"{path} row Id={row.get('Id')!r}", str(exc))
            return None

    with open_binary(path) as stream:
        for number, row in enumerate(_rows(stream, path), start=1):
            kind = row.get("PostTypeId")
            try:
                if kind == "1":
                    created = parse_time(row.get("CreationDate"), "CreationDate")
                    if created is None or not in_window(created, start, end):
                        continue
                    accepted = parse_int(row.get("AcceptedAnswerId"), "AcceptedAnswerId")
                    if accepted is not None:
                        waiting[accepted] = row
                    elif (record := build(row, None)) is not None:
                        yield record
                elif kind == "2":
                    answer_id = parse_int(row.get("Id"), "answer Id")
                    if answer_id is None:
                        raise RecordError("an answer row has no Id")
                    if (question := waiting.pop(answer_id, None)) is not None:
                        answer = answer_from_fields(answer_id, row.get("ParentId"),
                                                    row.get("Score"), row.get("CreationDate"),
                                                    row.get("Body"))
                        if (record := build(question, answer)) is not None:
                            yield record
            except RecordError as exc:
                skipped.add(f"{path} row {number} (Id={row.get('Id')!r})", str(exc))
    if waiting:
        log.warning("%s: %d accepted answers are not in the dump; their columns stay empty",
                    path, len(waiting))
    for row in waiting.values():
        if (record := build(row, None)) is not None:
            yield record


MAX_ROW_BYTES = 2 * 2**20
"""The longest ``<row .../>`` read (2 MB; a post is at most 30,000 characters, about 100 KB
escaped). Parsing one huge attribute slows down with its square, so a longer row is refused
before it is parsed, with its byte offset."""


class _BoundedRows:
    """A stream that refuses a tag longer than ``limit`` bytes before the parser sees it."""

    def __init__(self, stream: IO[bytes], path: Path, limit: int = MAX_ROW_BYTES) -> None:
        self.stream, self.path, self.limit = stream, path, limit
        self.offset = 0
        self.open = 0  # bytes since the last ">"

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size if size and size > 0 else 65536)
        last = chunk.rfind(b">")
        self.open = self.open + len(chunk) if last < 0 else len(chunk) - last - 1
        self.offset += len(chunk)
        if self.open > self.limit:
            raise DumpFormatError(
                f"{self.path}: a row longer than {self.limit // 2**20} MB before byte "
                f"{self.offset} (no post is): refused before parsing")
        return chunk


def _rows(stream: IO[bytes], path: Path, root_tag: str = "posts") -> Iterator[dict[str, str]]:
    parser = ET.iterparse(_BoundedRows(stream, path), events=("start", "end"))
    try:
        _, root = next(parser)
        if root.tag != root_tag:
            raise DumpFormatError(f"{path}: root element is <{root.tag}>, expected <{root_tag}> "
                                  f"(a {root_tag.capitalize()}.xml)")
        for event, element in parser:
            if event == "end" and element.tag == "row":
                yield dict(element.attrib)
                root.clear()  # drop parsed rows: memory stays flat over a multi-GB file
    except ET.ParseError as exc:
        line, column = exc.position
        raise DumpFormatError(f"{path}: XML error at line {line}, column {column}: {exc}"
                              ) from None


def _reputations(path: Path) -> dict[int, int]:
    """User id -> reputation from a dump's ``Users.xml``."""
    found: dict[int, int] = {}
    with open_binary(path) as stream:
        for row in _rows(stream, path, root_tag="users"):
            try:
                user, reputation = parse_int(row.get("Id"), "Id"), parse_int(
                    row.get("Reputation"), "Reputation")
            except RecordError as exc:
                raise DumpFormatError(f"{path}: user row {row.get('Id')!r}: {exc}") from None
            if user is not None and reputation is not None:
                found[user] = reputation
    return found


def _record(row: dict[str, str], site: str, answer: AcceptedAnswer | None,
            reputation: dict[int, int]) -> QuestionRecord:
    owner = parse_int(row.get("OwnerUserId"), "OwnerUserId")
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
        owner_user_id=owner,
        owner_reputation=reputation.get(owner) if owner is not None else None,
    )
