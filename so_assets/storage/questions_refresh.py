"""Incremental refresh of the cleaned ``questions`` table from ``raw_questions``.

Only days whose raw partition was (re)loaded since the last refresh are rebuilt, so a daily
refresh costs work in proportion to the new partitions, not to the history.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

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
    new_questions: int = 0
    """Question ids the table did not hold before this refresh."""
    new_tags: int = 0
    """Tags no question carried before this refresh."""
    new_tag_examples: list[str] = field(default_factory=list)
    rows_per_day: dict[date, int] = field(default_factory=dict,
                                          metadata={"per_partition": True})
    """Questions now held by each rebuilt or removed day."""


PROGRESS_EVERY_SECONDS = 10.0


def refresh_questions(store: QuestionStore, days: Sequence[date] | None = None,
                      full: bool = False, rows_per_batch: int = 20_000,
                      log: logging.Logger | None = None) -> RefreshStats:
    """Rebuild the ``questions`` rows of ``days`` (a day with no raw partition loses its rows);
    without ``days``, of every stale day, or of all days with ``full``.

    Days are rebuilt in batches of about ``rows_per_batch`` raw rows (whole days), so memory
    stays bounded on a long history and sparse days do not cost one transaction each.
    """
    log = log or logging.getLogger(__name__)
    started = time.monotonic()
    with store.connect() as con:
        if days is None:
            stale_rows = con.execute(
                "SELECT l.creation_day, l.stored_count FROM raw_partition_loads l "
                "LEFT JOIN questions_sync s USING (creation_day) "
                "WHERE $full OR s.loaded_at IS NULL OR s.loaded_at < l.loaded_at "
                "ORDER BY 1", {"full": full}).fetchall()
            gone = [row[0] for row in con.execute(
                "SELECT creation_day FROM questions_sync WHERE creation_day NOT IN "
                "(SELECT creation_day FROM raw_partition_loads)").fetchall()]
        else:
            stale_rows = con.execute(
                "SELECT creation_day, stored_count FROM raw_partition_loads "
                "WHERE creation_day IN (SELECT unnest($days)) ORDER BY 1",
                {"days": list(days)}).fetchall()
            gone = sorted(set(days) - {day for day, _ in stale_rows})
        stale = [day for day, _ in stale_rows]
        known_tags = _distinct_tags(con)
        if gone:
            con.execute("DELETE FROM questions WHERE creation_day IN (SELECT unnest($d))",
                        {"d": gone})
            con.execute("DELETE FROM questions_sync WHERE creation_day IN (SELECT unnest($d))",
                        {"d": gone})
        raw_rows = written = new_questions = done = 0
        rows_per_day: dict[date, int] = dict.fromkeys(gone, 0)
        last_log = started
        for batch in _day_batches(stale_rows, rows_per_batch):
            rebuilt = _rebuild_days(con, batch)
            raw_rows += rebuilt.raw_rows
            written += sum(rebuilt.rows_per_day.values())
            new_questions += rebuilt.new_questions
            rows_per_day.update(rebuilt.rows_per_day)
            done += len(batch)
            now = time.monotonic()
            if now - last_log >= PROGRESS_EVERY_SECONDS or done == len(stale):
                elapsed = now - started
                log.info("questions: %d/%d days rebuilt (%d rows, %.0f rows/s, ~%.0fs left)",
                         done, len(stale), written, written / max(elapsed, 1e-9),
                         elapsed / done * (len(stale) - done))
                last_log = now
        new_tags = sorted(_distinct_tags(con) - known_tags)
        if new_tags:
            log.info("questions: %d new tags, e.g. %s", len(new_tags), ", ".join(new_tags[:10]))
        total = con.execute("SELECT count(*) FROM questions").fetchall()[0][0]
    return RefreshStats(len(stale), len(gone), raw_rows, written, raw_rows - written, total,
                        time.monotonic() - started, new_questions, len(new_tags), new_tags[:20],
                        rows_per_day)


def _distinct_tags(con) -> set[str]:
    return {row[0] for row in con.execute(
        "SELECT DISTINCT unnest(tags) FROM questions").fetchall()}


def _day_batches(day_rows: list[tuple], rows_per_batch: int) -> Iterator[list]:
    """Runs of consecutive days holding about ``rows_per_batch`` raw rows (one day at least)."""
    batch, rows = [], 0
    for day, n_rows in day_rows:
        if batch and rows + (n_rows or 0) > rows_per_batch:
            yield batch
            batch, rows = [], 0
        batch.append(day)
        rows += n_rows or 0
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class _Rebuilt:
    raw_rows: int
    new_questions: int
    rows_per_day: dict[date, int]


def _rebuild_days(con, days: list) -> _Rebuilt:
    raw_rows = con.execute("SELECT count(*) FROM raw_questions WHERE creation_day IN "
                           "(SELECT unnest($days))", {"days": days}).fetchall()[0][0]
    day_list = ", ".join(f"DATE '{day.isoformat()}'" for day in days)  # dates, not user text
    latest = con.sql(_LATEST_RAW_ROWS.format(days=day_list)).to_arrow_table()
    cleaned = _clean(latest)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("cleaned", cleaned)
        new_questions = con.execute(
            "SELECT count(*) FROM cleaned WHERE question_id NOT IN "
            "(SELECT question_id FROM questions)").fetchall()[0][0]
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
    per_day = dict.fromkeys(days, 0)
    for day in cleaned.column("creation_day").to_pylist():
        per_day[day] += 1
    return _Rebuilt(raw_rows, new_questions, per_day)


def _clean(latest: pa.Table) -> pa.Table:
    texts = [html_to_text(body) for body in latest.column("question_text").to_pylist()]
    latest = latest.drop_columns(["question_text"])
    latest = latest.append_column("body_text", pa.array(texts, pa.string()))
    return latest.append_column(
        "code_block_count", pa.array([t.count(CODE_START) for t in texts], pa.int32()))
