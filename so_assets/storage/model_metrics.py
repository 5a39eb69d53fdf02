"""The evaluation figures of every model, as a table queries and dashboards can read."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from so_assets.storage.question_store import QuestionStore
from so_assets.storage.schema import replace_tables


def write_tag_model_metrics(store: QuestionStore,
                            rows: Iterable[tuple[str, str, str, float]]) -> None:
    """Replace ``tag_model_metrics`` with (model, level, metric, value) rows."""
    rows = list(rows)
    table = pa.table({"model": pa.array([r[0] for r in rows], pa.string()),
                      "level": pa.array([r[1] for r in rows], pa.string()),
                      "metric": pa.array([r[2] for r in rows], pa.string()),
                      "value": pa.array([float(r[3]) for r in rows], pa.float64())})
    with store.connect() as con:
        replace_tables(con, {"tag_model_metrics": table})


def write_score_model_metrics(store: QuestionStore,
                              rows: Iterable[tuple[str, str, float]]) -> None:
    """Replace ``score_model_metrics`` with (model, metric, value) rows (test split)."""
    rows = list(rows)
    table = pa.table({"model": pa.array([r[0] for r in rows], pa.string()),
                      "metric": pa.array([r[1] for r in rows], pa.string()),
                      "value": pa.array([float(r[2]) for r in rows], pa.float64())})
    with store.connect() as con:
        replace_tables(con, {"score_model_metrics": table})
