"""Incremental refresh of the cleaned ``questions`` table from ``raw_questions``.

Only days whose raw partition was (re)loaded since the last refresh are rebuilt, so a daily
refresh costs work in proportion to the new partitions, not to the history.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pyarrow as pa

from so_assets.stackexchange.html_text import CODE_START, html_to_text
from so_assets.storage.question_store import QuestionStore

_CLEAN_COLUMNS = (
    "question_id", "site", "source", "creation_day", "creation_date", "title", "body_text",
    "code_block_count", "tags", "num_tags", "score", "view_count", "answer_count",
    "owner_reputation", "ingested_at", "has_accepted_answer", "accepted_answer_id",
    "accepted_answer_score",
    "time_to_accepted_answer_hours", "accepted_answer_length_chars",
    "accepted_answer_length_tokens",
)

# One row per question id: the freshest copy the raw partitions hold.
_LATEST_RAW_ROWS = """
SELECT question_id, site, source, creation_day, creation_date, title, question_text,
       tags, num_tags, question_score AS score, view_count, answer_count, owner_reputation,
       ingested_at, has_accepted_answer,
       accepted_answer_id, accepted_answer_score, time_to_accepted_answer_hours,
       accepted_answer_length_chars, accepted_answer_length_tokens
FROM raw_questions
WHERE creation_day IN ({days})
QUALIFY row_number() OVER (PARTITION BY question_id
                           ORDER BY last_activity_date DESC NULLS LAST, ingested_at DESC) = 1
ORDER BY question_id
"""


@dataclass(frozen=True, slots=True)
class RefreshStats:
    days_rebuilt: int
    days_removed: int
    raw_rows: int
    questions_written: int
    duplicates_dropped: int
    total_questions: int
    seconds: float


def refresh_questions(store: QuestionStore, full: bool = False, days_per_batch: int = 7,
                      log: logging.Logger | None = None) -> RefreshStats:
    """Rebuild the ``questions`` rows of every stale day; ``full`` rebuilds all days."""
    log = log or logging.getLogger(__name__)
    started = time.monotonic()
    with store.connect() as con:
        stale = [row[0] for row in con.execute(
            "SELECT l.creation_day FROM raw_partition_loads l "
            "LEFT JOIN questions_sync s USING (creation_day) "
            "WHERE $full OR s.loaded_at IS NULL OR s.loaded_at < l.loaded_at "
            "ORDER BY 1", {"full": full}).fetchall()]
        gone = [row[0] for row in con.execute(
            "SELECT creation_day FROM questions_sync "
            "WHERE creation_day NOT IN (SELECT creation_day FROM raw_partition_loads)").fetchall()]
        if gone:
            con.execute("DELETE FROM questions WHERE creation_day IN (SELECT unnest($d))",
                        {"d": gone})
            con.execute("DELETE FROM questions_sync WHERE creation_day IN (SELECT unnest($d))",
                        {"d": gone})
        raw_rows = written = 0
        for lo in range(0, len(stale), days_per_batch):
            days = stale[lo : lo + days_per_batch]
            n_raw, n_written = _rebuild_days(con, days)
            raw_rows += n_raw
            written += n_written
            done = lo + len(days)
            elapsed = time.monotonic() - started
            log.info("questions: %d/%d stale days rebuilt (%d rows, %.0f rows/s, ~%.0fs left)",
                     done, len(stale), written, written / max(elapsed, 1e-9),
                     elapsed / done * (len(stale) - done))
        total = con.execute("SELECT count(*) FROM questions").fetchall()[0][0]
    return RefreshStats(len(stale), len(gone), raw_rows, written, raw_rows - written, total,
                        time.monotonic() - started)


def _rebuild_days(con, days: list) -> tuple[int, int]:
    raw_rows = con.execute("SELECT count(*) FROM raw_questions WHERE creation_day IN "
                           "(SELECT unnest($days))", {"days": days}).fetchall()[0][0]
    day_list = ", ".join(f"DATE '{day.isoformat()}'" for day in days)  # dates, not user text
    latest = con.sql(_LATEST_RAW_ROWS.format(days=day_list)).to_arrow_table()
    cleaned = _clean(latest)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("cleaned", cleaned)
        # A question re-dated by another source must not survive under its old day.
        con.execute("DELETE FROM questions WHERE creation_day IN (SELECT unnest($days)) "
                    "OR question_id IN (SELECT question_id FROM cleaned)", {"days": days})
        con.execute(f"INSERT INTO questions ({', '.join(_CLEAN_COLUMNS)}) "
                    f"SELECT {', '.join(_CLEAN_COLUMNS)} FROM cleaned")
        con.unregister("cleaned")
        con.execute("INSERT OR REPLACE INTO questions_sync SELECT creation_day, loaded_at "
                    "FROM raw_partition_loads WHERE creation_day IN (SELECT unnest($days))",
                    {"days": days})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return raw_rows, cleaned.num_rows


def _clean(latest: pa.Table) -> pa.Table:
    texts = [html_to_text(body) for body in latest.column("question_text").to_pylist()]
    latest = latest.drop_columns(["question_text"])
    latest = latest.append_column("body_text", pa.array(texts, pa.string()))
    return latest.append_column(
        "code_block_count", pa.array([t.count(CODE_START) for t in texts], pa.int32()))
