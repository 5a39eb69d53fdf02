"""Stable train / validation / test assignment of questions.

A question's split is a function of its content group only: questions with the same normalised
title and body text form one group keyed by the group's smallest id, and md5 of that key
picks the split. Adding partitions never moves a question, and duplicates never straddle.
"""

from __future__ import annotations

from datetime import timedelta

from so_assets.storage.question_store import QuestionStore

_ASSIGN = """
INSERT INTO dataset_splits
WITH grouped AS (
    SELECT question_id,
           min(question_id) OVER (PARTITION BY md5(lower(trim(title)) || '\x1f' ||
                                                lower(trim(body_text)))) AS group_key
    FROM questions
    WHERE $until IS NULL OR creation_day < $until
), bucketed AS (
    SELECT question_id, group_key,
           ('0x' || substr(md5(group_key::VARCHAR), 1, 8))::BIGINT % 100 AS bucket
    FROM grouped
)
SELECT question_id, group_key,
       CASE WHEN bucket < $train THEN 'train'
            WHEN bucket < $train + $validation THEN 'validation'
            ELSE 'test' END AS split
FROM bucketed
"""


def assign_splits(store: QuestionStore, train_percent: int = 80,
                  validation_percent: int = 10, holdout_days: int = 0) -> dict[str, int]:
    """Rewrite ``dataset_splits``; returns questions per split. Questions of the newest
    ``holdout_days`` days get no split: they arrive after training, as new questions do."""
    if train_percent + validation_percent >= 100:
        raise ValueError("train and validation percentages must leave room for a test split")
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM dataset_splits")
            newest = con.execute("SELECT max(creation_day) FROM questions").fetchone()[0]
            until = (newest - timedelta(days=holdout_days - 1)
                     if holdout_days and newest is not None else None)
            con.execute(_ASSIGN, {"train": train_percent, "validation": validation_percent,
                                  "until": until})
            if newest is not None and not con.execute(
                    "SELECT count(*) FROM dataset_splits").fetchone()[0]:
                oldest = con.execute("SELECT min(creation_day) FROM questions").fetchone()[0]
                raise ValueError(
                    f"holdout_days={holdout_days} holds back every day of questions ({oldest} "
                    f"to {newest}): nothing is left to train on; load more days or hold back "
                    "fewer (dataset_splits' holdout_days)")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return dict(con.execute("SELECT split, count(*) FROM dataset_splits GROUP BY 1"
                                ).fetchall())
