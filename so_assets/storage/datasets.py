"""The rows models learn from: one split's labelled questions with their texts and labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from so_assets.storage.question_store import QuestionStore

SPLITS = ("train", "validation", "test")

# Only columns known when a question is posted become model inputs; the score and the
# time it was read are the regression target and its horizon.
POSTING_TIME_COLUMNS = ("creation_date", "code_block_count", "num_tags", "owner_reputation")

_SPLIT_ROWS = """
SELECT q.question_id, q.title, q.body_text, l.cluster_labels, l.kept_tags, q.tags,
       q.creation_date, q.code_block_count, q.num_tags, q.owner_reputation,
       q.score, date_diff('second', q.creation_date, q.ingested_at) / 86400.0, q.source
FROM questions q JOIN tag_labels l USING (question_id)
JOIN dataset_splits s USING (question_id)
WHERE s.split = ? AND len(l.cluster_labels) > 0
ORDER BY q.question_id
"""


@dataclass(frozen=True)
class SplitRows:
    """One split's labelled questions, ordered by id."""

    question_ids: np.ndarray
    titles: list[str]
    bodies: list[str]
    cluster_labels: list[list[int]]
    kept_tags: list[list[str]]
    tags: list[list[str]]
    columns: dict[str, np.ndarray]
    """The posting-time columns: creation_date (datetime64), code_block_count, num_tags and
    owner_reputation (float, NaN when unknown)."""
    scores: np.ndarray
    score_age_days: np.ndarray
    """How old each question was when its score was read (NaN when unknown)."""
    sources: list[str]

    def __len__(self) -> int:
        return len(self.question_ids)


_DAYS_ROWS = """
SELECT q.question_id, q.title, q.body_text, q.tags, q.creation_date, q.code_block_count,
       q.num_tags, q.owner_reputation, q.score,
       date_diff('second', q.creation_date, q.ingested_at) / 86400.0, q.source, q.creation_day
FROM questions q WHERE list_contains(?::DATE[], q.creation_day)
ORDER BY q.creation_day, q.question_id
"""


def days_rows(store: QuestionStore, days: Sequence[date]) -> dict[date, SplitRows]:
    """Every question created on each of ``days`` (labelled or not), ordered by id, in one
    query; their labels are left empty (the caller maps tags onto a model's label space)."""
    with store.connect(read_only=True) as con:
        rows = con.execute(_DAYS_ROWS, [list(days)]).fetchall()
    by_day: dict[date, list[tuple]] = {day: [] for day in days}
    for r in rows:
        by_day[r[-1]].append((r[0], r[1], r[2], [], [], *r[3:-1]))
    return {day: _split_rows(day_rows) for day, day_rows in by_day.items()}


def labelled_sources(store: QuestionStore) -> set[str]:
    """The sources (``questions.source``) of the labelled questions in a split."""
    with store.connect(read_only=True) as con:
        rows = con.execute("SELECT DISTINCT q.source FROM questions q JOIN tag_labels l "
                           "USING (question_id) JOIN dataset_splits s USING (question_id) "
                           "WHERE len(l.cluster_labels) > 0").fetchall()
    return {r[0] for r in rows}


def split_rows(store: QuestionStore, split: str) -> SplitRows:
    """The labelled questions of ``split`` (one of train, validation, test)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {SPLITS}")
    with store.connect(read_only=True) as con:
        rows = con.execute(_SPLIT_ROWS, [split]).fetchall()
    return _split_rows(rows)


def _split_rows(rows: list[tuple]) -> SplitRows:
    return SplitRows(
        question_ids=np.array([r[0] for r in rows], dtype=np.int64),
        titles=[r[1] for r in rows], bodies=[r[2] for r in rows],
        cluster_labels=[r[3] for r in rows], kept_tags=[r[4] for r in rows],
        tags=[r[5] for r in rows],
        columns={
            "creation_date": np.array([r[6] for r in rows], dtype="datetime64[s]"),
            "code_block_count": np.array([r[7] for r in rows], dtype=np.float64),
            "num_tags": np.array([r[8] for r in rows], dtype=np.float64),
            "owner_reputation": np.array([np.nan if r[9] is None else r[9] for r in rows],
                                         dtype=np.float64),
        },
        scores=np.array([r[10] for r in rows], dtype=np.float64),
        score_age_days=np.array([np.nan if r[11] is None else r[11] for r in rows],
                                dtype=np.float64),
        sources=[r[12] for r in rows])


def questions_between(store: QuestionStore, after: np.datetime64 | None, first_day: date,
                      before_day: date) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Ids, creation days (datetime64[D]) and tags of the questions created after ``after``
    (any time when None), on days from ``first_day`` up to but not including ``before_day``,
    ordered by id."""
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT question_id, creation_day, tags FROM questions WHERE creation_day >= ? AND "
            "creation_day < ? AND (? IS NULL OR creation_date > ?) ORDER BY question_id",
            [first_day, before_day, *(2 * [None if after is None else
                                           after.astype("datetime64[us]").item()])]).fetchall()
    return (np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype="datetime64[D]"), [list(r[2]) for r in rows])


def question_counts(store: QuestionStore, days: Sequence[date],
                    created_after: datetime | None = None) -> dict[date, int]:
    """Questions on each day of ``days`` that has any (created after ``created_after`` when
    given)."""
    if not days:
        return {}
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT creation_day, count(*) FROM questions WHERE creation_day BETWEEN ? AND ? "
            "AND (? IS NULL OR creation_date > ?) GROUP BY creation_day",
            [min(days), max(days), created_after, created_after]).fetchall()
    wanted = set(days)
    return {day: n for day, n in rows if day in wanted}


def split_question_ids(store: QuestionStore, split: str) -> np.ndarray:
    """The ids of every question of ``split``, ascending."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {SPLITS}")
    with store.connect(read_only=True) as con:
        rows = con.execute("SELECT question_id FROM dataset_splits WHERE split = ? ORDER BY 1",
                           [split]).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)
