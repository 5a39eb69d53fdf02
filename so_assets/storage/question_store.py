"""The DuckDB file holding questions: atomic, idempotent partition writes and their log."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from so_assets.stackexchange.records import DERIVED_FIELDS, RECORD_FIELDS, QuestionRecord
from so_assets.stackexchange.sources.base import DayBatch
from so_assets.storage.durability import fsync_dir
from so_assets.storage.filesystems import refuse_network_writes
from so_assets.storage.leftovers import writer_suffix
from so_assets.storage.schema import ensure_schema

_RAW_COLUMNS = (*RECORD_FIELDS, *DERIVED_FIELDS, "ingested_at")


class SiteMismatchError(ValueError):
    """A load of one site into a data folder that holds another."""


@dataclass(frozen=True, slots=True)
class PartitionLoad:
    creation_day: date
    source: str
    reported_count: int
    stored_count: int
    loaded_at: datetime
    skipped_count: int


class QuestionStore:
    """Owns the DuckDB file; each method opens a connection only for as long as it needs it.

    With ``snapshot`` (the DuckDB file on this machine's local disk, the data folder shared),
    every write is followed by a consistent copy of the file at ``snapshot``, which the other
    machines open read-only: they never open, let alone write, the primary.
    """

    def __init__(self, path: Path | str, snapshot: Path | str | None = None) -> None:
        self.path = Path(path)
        self.snapshot = Path(snapshot) if snapshot is not None else None

    @contextmanager
    def connect(self, read_only: bool = False, lock_wait_seconds: float = 120.0
                ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with the schema in place (read-only connections need the file).

        DuckDB lets one process write; while another holds the file, retry for up to
        ``lock_wait_seconds`` before failing.
        """
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"{self.path} does not exist: materialize raw_questions first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not read_only:
            refuse_network_writes(self.path)
        con = _connect_waiting(self.path, read_only, lock_wait_seconds)
        try:
            if not read_only:
                ensure_schema(con)
            yield con
        finally:
            con.close()
        if not read_only and self.snapshot is not None:
            self.publish_snapshot()

    def publish_snapshot(self) -> Path:
        """Copy the (closed, consistent) file to ``snapshot`` under a temporary name, flush it
        and rename it into place: a reader sees the previous copy or this one, never half."""
        assert self.snapshot is not None
        self.snapshot.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.snapshot.with_name(f".{self.snapshot.name}.{writer_suffix()}.tmp")
        shutil.copyfile(self.path, tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.snapshot)
        fsync_dir(self.snapshot.parent)
        return self.snapshot

    def _refuse_another_site(self, con: duckdb.DuckDBPyConnection, site: str) -> None:
        """One data folder holds one site: Stack Exchange question ids are per site, so two
        sites' days and ids would replace each other's rows."""
        held = {r[0] for r in con.execute(
            "SELECT site FROM raw_partition_loads UNION SELECT DISTINCT site FROM raw_questions"
        ).fetchall()} - {site}
        if held:
            other = sorted(held)[0]
            raise SiteMismatchError(
                f"{self.path} holds the site {other!r}; this load is of {site!r}, and one data "
                f"folder holds one site (question ids are per site). Point SO_ASSETS_DATA_DIR "
                f"(the storage resource's data_dir) at another folder for {site!r}, or set "
                f"SO_ASSETS_SITE (the source's site) to {other!r} if it is the same site")

    def replace_partitions(self, batches: Sequence[DayBatch], source: str, site: str
                           ) -> dict[date, int]:
        """Replace each batch's day in ``raw_questions`` in one transaction; returns row counts.

        Either every day is replaced exactly or, on any error, none is touched.
        """
        now = datetime.now(UTC).replace(tzinfo=None)
        table = records_to_arrow([r for b in batches for r in b.records], now)
        days = [b.day for b in batches]
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                self._refuse_another_site(con, site)
                con.execute("DELETE FROM raw_questions WHERE creation_day IN "
                            "(SELECT unnest($days))", {"days": days})
                con.register("incoming", table)
                con.execute(f"INSERT INTO raw_questions ({', '.join(_RAW_COLUMNS)}) "
                            f"SELECT {', '.join(_RAW_COLUMNS)} FROM incoming")
                con.unregister("incoming")
                counts = dict(con.execute(
                    "SELECT creation_day, count(*) FROM raw_questions "
                    "WHERE creation_day IN (SELECT unnest($days)) GROUP BY ALL",
                    {"days": days}).fetchall())
                for batch in batches:
                    con.execute(
                        "INSERT OR REPLACE INTO raw_partition_loads (creation_day, source, site, "
                        "reported_count, stored_count, quota_remaining, loaded_at, "
                        "skipped_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [batch.day, source, site, batch.reported_count,
                         counts.get(batch.day, 0), batch.quota_remaining, now,
                         batch.skipped.count])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return {day: counts.get(day, 0) for day in days}

    def partition_loads(self) -> list[PartitionLoad]:
        """What each loaded day's source reported and what was stored, oldest day first."""
        if not self.path.exists():
            return []
        with self.connect(read_only=True) as con:
            rows = con.execute(
                "SELECT creation_day, source, reported_count, stored_count, loaded_at, "
                "coalesce(skipped_count, 0) FROM raw_partition_loads ORDER BY creation_day"
            ).fetchall()
        return [PartitionLoad(*row) for row in rows]

    def question_texts(self, day: date) -> tuple[np.ndarray, list[str], list[str]]:
        """Ids, titles and body texts of one day's questions, ordered by id."""
        return self.question_texts_by_day([day])[day]

    def question_texts_by_day(self, days: Sequence[date]
                              ) -> dict[date, tuple[np.ndarray, list[str], list[str]]]:
        """:meth:`question_texts` of each day, read over one short-lived connection."""
        out = {}
        with self.connect(read_only=True) as con:
            for day in days:
                rows = con.execute("SELECT question_id, title, body_text FROM questions "
                                   "WHERE creation_day = ? ORDER BY question_id",
                                   [day]).fetchall()
                out[day] = (np.array([r[0] for r in rows], dtype=np.int64),
                            [r[1] for r in rows], [r[2] for r in rows])
        return out

    def questions_per_day(self, days: Sequence[date]) -> dict[date, int]:
        """How many questions each of ``days`` holds (0 for a day with none)."""
        with self.connect(read_only=True) as con:
            rows = con.execute("SELECT creation_day, count(*) FROM questions WHERE creation_day "
                               "IN (SELECT unnest($days)) GROUP BY 1",
                               {"days": list(days)}).fetchall()
        return {**dict.fromkeys(days, 0), **dict(rows)}

    def tag_counts(self, split: str | None = None) -> list[tuple[str, int]]:
        """Every tag in ``questions`` with its number of questions (only those of ``split``
        when given: ``dataset_splits`` must exist), most frequent first."""
        where = ("" if split is None else
                 " WHERE question_id IN (SELECT question_id FROM dataset_splits WHERE split = ?)")
        with self.connect(read_only=True) as con:
            return con.execute(
                "SELECT tag, count(*) AS n FROM (SELECT unnest(tags) AS tag FROM questions"
                f"{where}) GROUP BY tag ORDER BY n DESC, tag",
                [] if split is None else [split]).fetchall()

    def duplicate_question_ids(self, limit: int = 20) -> list[int]:
        """Question ids that appear more than once in ``questions``."""
        with self.connect(read_only=True) as con:
            return [int(r[0]) for r in con.execute(
                "SELECT question_id FROM questions GROUP BY 1 HAVING count(*) > 1 LIMIT ?",
                [limit]).fetchall()]

    def empty_title_ids(self, limit: int = 20) -> list[int]:
        """Questions whose title is blank."""
        with self.connect(read_only=True) as con:
            return [int(r[0]) for r in con.execute(
                "SELECT question_id FROM questions WHERE trim(title) = '' LIMIT ?",
                [limit]).fetchall()]

    def raw_counts(self) -> dict[date, int]:
        """Rows currently in ``raw_questions`` per day."""
        with self.connect(read_only=True) as con:
            return dict(con.execute(
                "SELECT creation_day, count(*) FROM raw_questions GROUP BY ALL").fetchall())


def _connect_waiting(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def records_to_arrow(records: Sequence[QuestionRecord], ingested_at: datetime) -> pa.Table:
    """The records as an Arrow table with the raw_questions columns."""
    columns: dict[str, list] = {name: [] for name in _RAW_COLUMNS}
    for record in records:
        for name in RECORD_FIELDS:
            value = getattr(record, name)
            columns[name].append(list(value) if name == "tags" else value)
        for name in DERIVED_FIELDS:
            columns[name].append(getattr(record, name))
        columns["ingested_at"].append(ingested_at)
    schema = pa.schema([
        ("question_id", pa.int64()), ("site", pa.string()), ("source", pa.string()),
        ("creation_date", pa.timestamp("us")), ("title", pa.string()),
        ("question_text", pa.string()), ("tags", pa.list_(pa.string())),
        ("question_score", pa.int32()), ("view_count", pa.int32()),
        ("answer_count", pa.int32()), ("is_answered", pa.bool_()),
        ("last_activity_date", pa.timestamp("us")), ("owner_user_id", pa.int64()),
        ("owner_reputation", pa.int32()), ("link", pa.string()), ("accepted_answer_id", pa.int64()),
        ("accepted_answer_score", pa.int32()), ("accepted_answer_date", pa.timestamp("us")),
        ("accepted_answer_length_chars", pa.int32()),
        ("accepted_answer_length_tokens", pa.int32()), ("creation_day", pa.date32()),
        ("num_tags", pa.int32()), ("has_accepted_answer", pa.bool_()),
        ("time_to_accepted_answer_hours", pa.float64()), ("ingested_at", pa.timestamp("us")),
    ])
    return pa.table(columns, schema=schema)
