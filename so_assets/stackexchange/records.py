"""The normalized question record every source produces."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import ClassVar

STACKOVERFLOW_FIRST_DAY = date(2008, 7, 31)  # the first public day: where partitions start


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """One question as a source gave it, plus its accepted answer's metadata.

    Times are timezone-naive UTC. ``question_text`` is the source's HTML body (``None`` when the
    source did not include it); ``title`` is plain text (HTML entities decoded).
    """

    question_id: int
    site: str
    source: str
    creation_date: datetime
    title: str
    question_text: str | None
    tags: tuple[str, ...]
    question_score: int
    view_count: int | None = None
    answer_count: int | None = None
    is_answered: bool | None = None
    last_activity_date: datetime | None = None
    owner_user_id: int | None = None
    owner_reputation: int | None = None  # the asker's reputation when the source gives it
    link: str | None = None
    accepted_answer_id: int | None = None
    accepted_answer_score: int | None = None
    accepted_answer_date: datetime | None = None
    accepted_answer_length_chars: int | None = None
    accepted_answer_length_tokens: int | None = None

    @property
    def creation_day(self) -> date:
        """The UTC day that partitions this question."""
        return self.creation_date.date()

    @property
    def num_tags(self) -> int:
        return len(self.tags)

    @property
    def has_accepted_answer(self) -> bool:
        return self.accepted_answer_id is not None

    @property
    def time_to_accepted_answer_hours(self) -> float | None:
        """Hours from the question to its accepted answer's creation (no source has accept time)."""
        if self.accepted_answer_date is None:
            return None
        return (self.accepted_answer_date - self.creation_date).total_seconds() / 3600.0


# Stored fields first, then the derived ones, in the order of the raw_questions table.
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(QuestionRecord))
DERIVED_FIELDS: tuple[str, ...] = (
    "creation_day",
    "num_tags",
    "has_accepted_answer",
    "time_to_accepted_answer_hours",
)


@dataclass(frozen=True, slots=True)
class AcceptedAnswer:
    """What the record needs of an accepted answer."""

    answer_id: int
    question_id: int | None
    score: int
    creation_date: datetime
    length_chars: int | None
    length_tokens: int | None


@dataclass
class SkipLog:
    """Items a source could not turn into records: how many, and the first reasons, located."""

    count: int = 0
    examples: list[str] = field(default_factory=list)
    max_examples: ClassVar[int] = 20

    def add(self, where: str, why: str) -> None:
        self.count += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(f"{where}: {why}")
