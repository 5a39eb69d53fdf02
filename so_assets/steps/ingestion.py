"""raw_questions and questions, and the rules their checks hold them to."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from so_assets.stackexchange.sources import Source
from so_assets.steps.results import CheckOutcome
from so_assets.storage.questions_refresh import RefreshStats, refresh_questions
from so_assets.storage.stores import Stores


@dataclass(frozen=True)
class RawQuestionsResult:
    """What one load wrote: per day, the rows stored and the count the source reported."""

    source: str
    site: str
    location: str
    stored: dict[date, int] = field(metadata={"per_partition": True})
    reported: dict[date, int] = field(metadata={"per_partition": True})
    skipped_items: int
    skipped_examples: list[str]
    quota_remaining: int | None
    rows_stored: int = field(init=False)
    rows_reported: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows_stored", sum(self.stored.values()))
        object.__setattr__(self, "rows_reported", sum(self.reported.values()))


def load_raw_questions(stores: Stores, source: Source, days: Sequence[date],
                       log: logging.Logger) -> RawQuestionsResult:
    """Replace each requested day of ``raw_questions`` with what ``source`` has for it.

    A day is written (in one transaction) only once the source has delivered all of it, so a
    failure leaves its previous rows untouched and re-running replaces it exactly. Sources
    that deliver day by day (the API) are written day by day; a file, read whole first, is
    written in one transaction.
    """
    stored: dict[date, int] = {}
    reported: dict[date, int] = {}
    skipped, examples = 0, []
    quota = None
    batches = source.day_batches(sorted(days), log)
    groups = ([b] for b in batches) if source.writes_day_by_day else [list(batches)]
    for group in groups:
        stored.update(stores.questions.replace_partitions(group, source=source.kind,
                                                          site=source.site))
        for batch in group:
            reported[batch.day] = batch.reported_count
            quota = batch.quota_remaining
            skipped += batch.skipped.count
            examples += batch.skipped.examples
    return RawQuestionsResult(source.kind, source.site, source.location(), stored, reported,
                              skipped, examples[:20], quota)


def build_questions(stores: Stores, days: Sequence[date] | None, log: logging.Logger
                    ) -> RefreshStats:
    """Rebuild the cleaned ``questions`` rows of ``days`` (of every reloaded day when None)."""
    return refresh_questions(stores.questions, days, log=log)


def raw_counts_match_source(stores: Stores) -> CheckOutcome:
    """Every loaded day holds exactly as many rows as its source reported."""
    loads = stores.questions.partition_loads()
    actual = stores.questions.raw_counts() if loads else {}
    wrong = [{"day": str(load.creation_day), "reported": load.reported_count,
              "stored": actual.get(load.creation_day, 0)}
             for load in loads if load.reported_count != actual.get(load.creation_day, 0)]
    return CheckOutcome(not wrong, {"days_checked": len(loads), "mismatches": wrong[:50]})


def unique_question_ids(stores: Stores) -> CheckOutcome:
    """No question id appears twice in ``questions``."""
    dupes = stores.questions.duplicate_question_ids()
    return CheckOutcome(not dupes, {"duplicated_ids": dupes})


def no_empty_titles(stores: Stores) -> CheckOutcome:
    """Every question has a non-blank title."""
    empty = stores.questions.empty_title_ids()
    return CheckOutcome(not empty, {"question_ids": empty})


EMPTY_DAY_MIN_TYPICAL = 5
"""A day reported empty is suspect when the typical non-empty day holds at least this many
questions: with a Poisson rate of 5 a day, a truly empty day has a probability under 1 %."""


def no_unexpected_empty_days(stores: Stores) -> CheckOutcome:
    """No loaded day came back empty while the days around it are busy: an empty day on a busy
    site means the source did not cover it (a file's range, a filter, an outage)."""
    loads = stores.questions.partition_loads()
    counts = sorted(load.reported_count for load in loads if load.reported_count > 0)
    typical = counts[len(counts) // 2] if counts else 0
    empty = [str(load.creation_day) for load in loads if load.reported_count == 0]
    suspect = empty if (typical >= EMPTY_DAY_MIN_TYPICAL or not counts) else []
    return CheckOutcome(not suspect, {
        "days_checked": len(loads), "empty_days": len(empty),
        "median_questions_per_nonempty_day": typical, "suspect_days": suspect[:50],
        "rule": f"empty days are suspect when the median non-empty day holds "
                f">= {EMPTY_DAY_MIN_TYPICAL} questions, or when no day holds any"})


def no_skipped_items(stores: Stores) -> CheckOutcome:
    """No loaded day had items the source could not read (they are counted per day and
    located in the load's log)."""
    skipped = {str(load.creation_day): load.skipped_count
               for load in stores.questions.partition_loads() if load.skipped_count}
    return CheckOutcome(not skipped, {"skipped_items": sum(skipped.values()),
                                      "days": dict(list(skipped.items())[:50])})
