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


_DAY_ROWS = """
SELECT q.question_id, q.title, q.body_text, q.tags, q.creation_date, q.code_block_count,
       q.num_tags, q.owner_reputation, q.score,
       date_diff('second', q.creation_date, q.ingested_at) / 86400.0, q.source
FROM questions q WHERE q.creation_day = ? ORDER BY q.question_id
"""


def day_rows(store: QuestionStore, day: date) -> SplitRows:
    """Every question created on ``day`` (labelled or not), ordered by id; its labels are
    left empty (the caller maps its tags onto a model's label space)."""
    with store.connect(read_only=True) as con:
        rows = con.execute(_DAY_ROWS, [day]).fetchall()
    return _split_rows([(r[0], r[1], r[2], [], [], *r[3:]) for r in rows])


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
                      before_day: date) -> tuple[np.ndarray, list[list[str]]]:
    """Ids and tags of the questions created after ``after`` (any time when None), on days
    from ``first_day`` up to but not including ``before_day``."""
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT question_id, tags FROM questions WHERE creation_day >= ? AND "
            "creation_day < ? AND (? IS NULL OR creation_date > ?) ORDER BY question_id",
            [first_day, before_day, *(2 * [None if after is None else
                                           after.astype("datetime64[us]").item()])]).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64), [list(r[1]) for r in rows]


def days_with_questions(store: QuestionStore, days: Sequence[date],
                        created_after: datetime | None = None) -> set[date]:
    """The days of ``days`` holding questions (created after ``created_after`` when given)."""
    if not days:
        return set()
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT creation_day FROM questions WHERE creation_day BETWEEN ? AND ? "
            "AND (? IS NULL OR creation_date > ?)",
            [min(days), max(days), created_after, created_after]).fetchall()
    return {r[0] for r in rows} & set(days)


def split_question_ids(store: QuestionStore, split: str) -> np.ndarray:
    """The ids of every question of ``split``, ascending."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {SPLITS}")
    with store.connect(read_only=True) as con:
        rows = con.execute("SELECT question_id FROM dataset_splits WHERE split = ? ORDER BY 1",
                           [split]).fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)
