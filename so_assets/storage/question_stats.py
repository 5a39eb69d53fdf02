"""Aggregates of the questions table for the exploratory report, computed inside DuckDB.

Only samples (at most ``sample_size`` scores and answer delays) come into memory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from so_assets.storage.question_store import QuestionStore

ANSWER_COLUMNS = (
    "accepted_answer_id", "accepted_answer_score", "time_to_accepted_answer_hours",
    "accepted_answer_length_chars", "accepted_answer_length_tokens",
)


@dataclass(frozen=True)
class QuestionAggregates:
    questions: int
    tag_counts: list[tuple[str, int]]  # every tag, most used first
    tags_per_question: list[tuple[int, int]]
    score_summary: dict[str, float]  # min, max, mean, median, p99, skewness, negative_share
    score_sample: np.ndarray
    answer_null_share: dict[str, float]
    hours_to_accepted_sample: np.ndarray


def question_aggregates(store: QuestionStore, sample_size: int = 200_000, seed: int = 0
                        ) -> QuestionAggregates:
    """Counts, distributions and samples of the questions table."""
    with store.connect(read_only=True) as con:
        questions = con.execute("SELECT count(*) FROM questions").fetchall()[0][0]
        if questions == 0:
            raise ValueError("the questions table is empty: materialize raw_questions and "
                             "questions")
        tag_counts = con.execute(
            "SELECT tag, count(*) AS n FROM (SELECT unnest(tags) AS tag FROM questions) "
            "GROUP BY tag ORDER BY n DESC, tag").fetchall()
        score_row = con.execute(
            "SELECT min(score), max(score), avg(score), median(score), "
            "quantile_cont(score, 0.99), skewness(score), avg((score < 0)::INT) "
            "FROM questions").fetchall()[0]
        scores = np.array([r[0] for r in con.execute(
            f"SELECT score FROM questions USING SAMPLE reservoir({sample_size} ROWS) "
            f"REPEATABLE ({seed})").fetchall()], dtype=float)
        nulls = con.execute("SELECT " + ", ".join(
            f"avg(({c} IS NULL)::INT)" for c in ANSWER_COLUMNS) + " FROM questions"
                            ).fetchall()[0]
        hours = np.array([r[0] for r in con.execute(
            "SELECT time_to_accepted_answer_hours FROM questions "
            "WHERE time_to_accepted_answer_hours IS NOT NULL "
            f"USING SAMPLE reservoir({sample_size} ROWS) REPEATABLE ({seed})").fetchall()],
            dtype=float)
        per_question = con.execute(
            "SELECT num_tags, count(*) FROM questions GROUP BY 1 ORDER BY 1").fetchall()
    return QuestionAggregates(
        questions=questions,
        tag_counts=tag_counts,
        tags_per_question=per_question,
        score_summary=dict(zip(
            ("min", "max", "mean", "median", "p99", "skewness", "negative_share"),
            (float(v) if v is not None else float("nan") for v in score_row), strict=True)),
        score_sample=scores,
        answer_null_share=dict(zip(ANSWER_COLUMNS, (float(v) for v in nulls), strict=True)),
        hours_to_accepted_sample=hours,
    )
