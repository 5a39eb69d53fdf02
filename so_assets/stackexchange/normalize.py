"""The one normalizer: every source's fields become a :class:`QuestionRecord`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from so_assets.stackexchange.html_text import count_tokens, html_to_text, unescape_title
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord
from so_assets.stackexchange.tags import parse_tags

_INTEGER_RE = re.compile(r"[+-]?\d+(?:\.0*)?")
_MISSING = (None, "", "NA", "NULL", "null")


class RecordError(ValueError):
    """A source item that cannot become a question record; the message names the field."""


EPOCH_RANGE = (datetime(2000, 1, 1), datetime(2100, 1, 1))
"""Epoch seconds outside these years are not a Stack Exchange date (``20240301`` read as
seconds is 1970-08-23): such a field is refused, and its row skipped."""


def parse_time(value: Any, what: str = "date") -> datetime | None:
    """UTC naive datetime from epoch seconds (API) or ISO 8601 text (dumps, CSV exports).
    All-digit values are epoch seconds, and only within :data:`EPOCH_RANGE`."""
    if value in _MISSING:
        return None
    if isinstance(value, datetime):
        moment = value
    elif (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()):
        seconds = int(value)
        low, high = (int(m.replace(tzinfo=UTC).timestamp()) for m in EPOCH_RANGE)
        if not low <= seconds < high:
            raise RecordError(f"{what} is not a date: {value!r} read as epoch seconds is "
                              f"outside {EPOCH_RANGE[0].year}-{EPOCH_RANGE[1].year - 1}")
        return datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None)
    elif isinstance(value, str):
        text = value.strip().replace(" UTC", "").replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise RecordError(f"{what} is not a date: {value!r}") from None
    else:
        raise RecordError(f"{what} is not a date: {value!r} ({type(value).__name__})")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_int(value: Any, what: str = "value") -> int | None:
    """An integer, or None for a missing value. Text must be a whole number ("12", "-3",
    "12.0"): "1.9" or "2e3" are errors, never rounded, so ids cannot silently collide."""
    if value in _MISSING:
        return None
    if isinstance(value, bool):
        raise RecordError(f"{what} is not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    raise RecordError(f"{what} is not an integer: {value!r}")


def answer_from_fields(answer_id: Any, question_id: Any, score: Any, created: Any,
                       body_html: Any) -> AcceptedAnswer:
    """An accepted answer's metadata; lengths are of its plain text (None without a body)."""
    ident = parse_int(answer_id, "answer id")
    if ident is None:
        raise RecordError("an answer has no id")
    if body_html is not None and not isinstance(body_html, str):
        raise RecordError(f"answer {ident}: body is a {type(body_html).__name__}, not text")
    text = html_to_text(body_html) if body_html is not None else None
    creation = parse_time(created, f"answer {ident} creation date")
    if creation is None:
        raise RecordError(f"answer {ident} has no creation date")
    return AcceptedAnswer(
        answer_id=ident,
        question_id=parse_int(question_id, f"answer {ident} question id"),
        score=parse_int(score, f"answer {ident} score") or 0,
        creation_date=creation,
        length_chars=len(text) if text is not None else None,
        length_tokens=count_tokens(text) if text is not None else None,
    )


def answer_from_api(item: Mapping[str, Any]) -> AcceptedAnswer:
    """An ``/answers`` item (``body`` present only with a body filter)."""
    return answer_from_fields(item.get("answer_id"), item.get("question_id"), item.get("score"),
                              item.get("creation_date"), item.get("body"))


def question_record(
    *,
    question_id: Any,
    site: str,
    source: str,
    creation_date: Any,
    title: Any,
    body_html: Any,
    tags: Any,
    score: Any,
    answer: AcceptedAnswer | None = None,
    accepted_answer_id: Any = None,
    view_count: Any = None,
    answer_count: Any = None,
    is_answered: Any = None,
    last_activity_date: Any = None,
    owner_user_id: Any = None,
    owner_reputation: Any = None,
    link: Any = None,
) -> QuestionRecord:
    """Build a validated record; raises :class:`RecordError` naming the question and field."""
    qid = parse_int(question_id, "question id")
    if qid is None:
        raise RecordError("question without an id")
    where = f"question {qid}"
    created = parse_time(creation_date, f"{where}: creation date")
    if created is None:
        raise RecordError(f"{where} has no creation date")
    if not isinstance(title, str):
        raise RecordError(f"{where} has no title" if title is None else
                          f"{where}: title is a {type(title).__name__}, not text")
    if body_html is not None and not isinstance(body_html, str):
        raise RecordError(f"{where}: body is a {type(body_html).__name__}, not text")
    if tags is not None and not isinstance(tags, str | list | tuple):
        raise RecordError(f"{where}: tags are a {type(tags).__name__}, not text or a list")
    if isinstance(tags, list | tuple) and not all(isinstance(t, str) for t in tags):
        raise RecordError(f"{where}: tags hold a non-text item: {tags!r}")
    accepted_id = parse_int(accepted_answer_id, f"{where}: accepted answer id")
    if answer is not None and accepted_id is None:
        accepted_id = answer.answer_id
    if is_answered is not None and not isinstance(is_answered, bool):
        raise RecordError(f"{where}: is_answered is {is_answered!r}, not a boolean")
    return QuestionRecord(
        question_id=qid,
        site=site,
        source=source,
        creation_date=created,
        title=unescape_title(title),
        question_text=body_html,
        tags=parse_tags(tags),
        question_score=parse_int(score, f"{where}: score") or 0,
        view_count=parse_int(view_count, f"{where}: view count"),
        answer_count=parse_int(answer_count, f"{where}: answer count"),
        is_answered=is_answered,
        last_activity_date=parse_time(last_activity_date, f"{where}: last activity date"),
        owner_user_id=parse_int(owner_user_id, f"{where}: owner user id"),
        owner_reputation=parse_int(owner_reputation, f"{where}: owner reputation"),
        link=link if isinstance(link, str) and link else None,
        accepted_answer_id=accepted_id,
        accepted_answer_score=answer.score if answer else None,
        accepted_answer_date=answer.creation_date if answer else None,
        accepted_answer_length_chars=answer.length_chars if answer else None,
        accepted_answer_length_tokens=answer.length_tokens if answer else None,
    )


def record_from_api(item: Mapping[str, Any], site: str, source: str,
                    answer: AcceptedAnswer | None) -> QuestionRecord:
    """A ``/questions`` item; ``body`` is missing under the default filter and then None."""
    owner = item.get("owner") or {}
    if not isinstance(owner, dict):
        raise RecordError(f"question {item.get('question_id')}: owner is not an object")
    return question_record(
        question_id=item.get("question_id"),
        site=site,
        source=source,
        creation_date=item.get("creation_date"),
        title=item.get("title"),
        body_html=item.get("body"),
        tags=item.get("tags") or [],
        score=item.get("score"),
        answer=answer,
        accepted_answer_id=item.get("accepted_answer_id"),
        view_count=item.get("view_count"),
        answer_count=item.get("answer_count"),
        is_answered=item.get("is_answered"),
        last_activity_date=item.get("last_activity_date"),
        owner_user_id=owner.get("user_id"),
        owner_reputation=owner.get("reputation"),
        link=item.get("link"),
    )
