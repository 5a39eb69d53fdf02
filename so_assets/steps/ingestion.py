"""raw_questions and questions, and the rules their checks hold them to."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from so_assets.stackexchange.sources import Source
from so_assets.steps.results import CheckOutcome, param
from so_assets.storage.questions_refresh import RefreshStats, refresh_questions
from so_assets.storage.stores import Stores


@dataclass(frozen=True)
class RawQuestionsResult:
    """What one load wrote: per day, the rows stored and the count the source reported."""

    source: str
    site: str
    location: str
    stored: dict[date, int]
    reported: dict[date, int]
    skipped_items: int
    skipped_examples: list[str]
    quota_remaining: int | None


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


@dataclass(frozen=True)
class QuestionsParams:
    full_rebuild: bool = param(False, "Rebuild every day, not only the days whose raw "
                                      "partition changed.")


def build_questions(stores: Stores, params: QuestionsParams, log: logging.Logger
                    ) -> RefreshStats:
    """Rebuild the cleaned ``questions`` rows of every reloaded day (all days with
    ``full_rebuild``)."""
    return refresh_questions(stores.questions, full=params.full_rebuild, log=log)


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
