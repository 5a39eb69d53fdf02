"""The daily predictions of the production models and the live quality figures: each day
replaced exactly, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import pyarrow as pa

from so_assets.storage.question_store import QuestionStore

DAY_TABLES = ("tag_predictions", "score_predictions", "live_tag_quality")


def replace_day_rows(store: QuestionStore, table: str,
                     by_day: Mapping[date, Mapping[str, Sequence]]) -> int:
    """Replace ``table``'s rows of each day of ``by_day`` with its columns (equal-length
    lists, one per column, ``creation_day`` filled in), every day in one transaction; returns
    the rows written."""
    if table not in DAY_TABLES:
        raise ValueError(f"{table!r} is no per-day table ({', '.join(DAY_TABLES)})")
    parts = []
    for day, columns in by_day.items():
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths for {table} on {day}: {lengths}")
        n = lengths.pop() if lengths else 0
        if n:
            parts.append(pa.table({"creation_day": pa.array([day] * n, pa.date32()),
                                   **{k: pa.array(list(v)) for k, v in columns.items()}}))
    days = pa.table({"day": pa.array(list(by_day), pa.date32())})
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("replaced", days)
            con.execute(f"DELETE FROM {table} WHERE creation_day IN (SELECT day FROM replaced)")
            con.unregister("replaced")
            if parts:
                con.register("incoming", pa.concat_tables(parts, promote_options="default"))
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return sum(len(part) for part in parts)


def clear_days(store: QuestionStore, table: str, days: Sequence[date]) -> None:
    """Remove ``table``'s rows of ``days`` in one statement (days with nothing to predict or
    measure: one statement, not a transaction per day, for a range of years)."""
    if table not in DAY_TABLES:
        raise ValueError(f"{table!r} is no per-day table ({', '.join(DAY_TABLES)})")
    if not days:
        return
    gone = pa.table({"day": pa.array(list(days), pa.date32())})
    with store.connect() as con:
        con.register("gone", gone)
        con.execute(f"DELETE FROM {table} WHERE creation_day IN (SELECT day FROM gone)")
        con.unregister("gone")


def day_tag_predictions(store: QuestionStore, day: date) -> list[tuple]:
    """(question_id, model, version, kind, rank, label, score, chosen) of one day."""
    with store.connect(read_only=True) as con:
        return con.execute("SELECT question_id, model, version, kind, rank, label, score, "
                           "chosen FROM tag_predictions WHERE creation_day = ? "
                           "ORDER BY question_id, kind, rank", [day]).fetchall()


def live_quality_rows(store: QuestionStore) -> list[tuple]:
    """(creation_day, model, version, metric, value) of every measured day, oldest first."""
    with store.connect(read_only=True) as con:
        return con.execute("SELECT creation_day, model, version, metric, value FROM "
                           "live_tag_quality ORDER BY creation_day, metric").fetchall()
