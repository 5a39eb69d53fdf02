"""The one normalizer: every source's fields become a :class:`QuestionRecord`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from so_assets.stackexchange.html_text import count_tokens, html_to_text, unescape_title
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord
from so_assets.stackexchange.tags import parse_tags


class RecordError(ValueError):
    """A source row that cannot become a question record; the message names the field."""


def parse_time(value: Any) -> datetime | None:
    """UTC naive datetime from epoch seconds (API) or ISO 8601 text (dumps, CSV exports)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), tz=UTC).replace(tzinfo=None)
    else:
        text = str(value).strip().replace(" UTC", "").replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise RecordError(f"unreadable date {value!r}") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def optional_int(value: Any) -> int | None:
    """An int, or None for missing / empty / 'NA' values."""
    if value is None or value == "" or value == "NA":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError) as exc:
        raise RecordError(f"not an integer: {value!r}") from exc


def answer_from_fields(
    answer_id: Any, question_id: Any, score: Any, created: Any, body_html: str | None
) -> AcceptedAnswer:
    """An accepted answer's metadata; lengths are of its plain text (None without a body)."""
    text = html_to_text(body_html) if body_html is not None else None
    creation = parse_time(created)
    if creation is None:
        raise RecordError(f"answer {answer_id} has no creation date")
    return AcceptedAnswer(
        answer_id=int(answer_id),
        question_id=optional_int(question_id),
        score=optional_int(score) or 0,
        creation_date=creation,
        length_chars=len(text) if text is not None else None,
        length_tokens=count_tokens(text) if text is not None else None,
    )


def answer_from_api(item: Mapping[str, Any]) -> AcceptedAnswer:
    """An ``/answers`` item (``body`` present only with a body filter)."""
    return answer_from_fields(
        item["answer_id"], item.get("question_id"), item.get("score"),
        item.get("creation_date"), item.get("body"),
    )


def question_record(
    *,
    question_id: Any,
    site: str,
    source: str,
    creation_date: Any,
    title: Any,
    body_html: str | None,
    tags: Any,
    score: Any,
    answer: AcceptedAnswer | None = None,
    accepted_answer_id: Any = None,
    view_count: Any = None,
    answer_count: Any = None,
    is_answered: Any = None,
    last_activity_date: Any = None,
    owner_user_id: Any = None,
    link: str | None = None,
) -> QuestionRecord:
    """Build a validated record; raises :class:`RecordError` naming the bad field."""
    qid = optional_int(question_id)
    if qid is None:
        raise RecordError("question without an id")
    created = parse_time(creation_date)
    if created is None:
        raise RecordError(f"question {qid} has no creation date")
    if title is None:
        raise RecordError(f"question {qid} has no title")
    accepted_id = optional_int(accepted_answer_id)
    if answer is not None and accepted_id is None:
        accepted_id = answer.answer_id
    return QuestionRecord(
        question_id=qid,
        site=site,
        source=source,
        creation_date=created,
        title=unescape_title(str(title)),
        question_text=body_html,
        tags=parse_tags(tags),
        question_score=optional_int(score) or 0,
        view_count=optional_int(view_count),
        answer_count=optional_int(answer_count),
        is_answered=None if is_answered is None else bool(is_answered),
        last_activity_date=parse_time(last_activity_date),
        owner_user_id=optional_int(owner_user_id),
        link=link or None,
        accepted_answer_id=accepted_id,
        accepted_answer_score=answer.score if answer else None,
        accepted_answer_date=answer.creation_date if answer else None,
        accepted_answer_length_chars=answer.length_chars if answer else None,
        accepted_answer_length_tokens=answer.length_tokens if answer else None,
    )


def record_from_api(
    item: Mapping[str, Any], site: str, source: str, answer: AcceptedAnswer | None
) -> QuestionRecord:
    """A ``/questions`` item; ``body`` is missing under the default filter and then None."""
    owner = item.get("owner") or {}
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
        link=item.get("link"),
    )
