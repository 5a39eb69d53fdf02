"""Partition writes into a real DuckDB file: idempotent, atomic, logged."""

from __future__ import annotations

import dataclasses
from datetime import date

import duckdb
import pytest

from so_assets.stackexchange.sample import SampleTransport
from so_assets.stackexchange.sources import DayBatch
from so_assets.storage.question_store import QuestionStore
from so_assets_tests.conftest import sample_batches


@pytest.fixture
def batches() -> list[DayBatch]:
    return list(sample_batches(SampleTransport().days()[:3]))


def count(store: QuestionStore, day: date | None = None) -> int:
    with duckdb.connect(str(store.path), read_only=True) as con:
        if day is None:
            return con.execute("SELECT count(*) FROM raw_questions").fetchall()[0][0]
        return con.execute("SELECT count(*) FROM raw_questions WHERE creation_day = ?",
                           [day]).fetchall()[0][0]


def test_replacing_a_partition_is_idempotent(tmp_path, batches):
    store = QuestionStore(tmp_path / "q.duckdb")
    first = store.replace_partitions(batches, "sample", "stackoverflow")
    assert first == {b.day: len(b.records) for b in batches}
    total = count(store)
    store.replace_partitions(batches[1:2], "sample", "stackoverflow")
    store.replace_partitions(batches, "sample", "stackoverflow")
    assert count(store) == total == sum(len(b.records) for b in batches)
    loads = store.partition_loads()
    assert [(x.creation_day, x.reported_count, x.stored_count) for x in loads] == [
        (b.day, b.reported_count, len(b.records)) for b in batches]


def test_a_failed_write_leaves_the_previous_rows(tmp_path, batches):
    store = QuestionStore(tmp_path / "q.duckdb")
    store.replace_partitions(batches, "sample", "stackoverflow")
    before = {b.day: count(store, b.day) for b in batches}
    day = batches[1]
    broken = dataclasses.replace(day.records[0], site=None)  # violates NOT NULL on insert
    with pytest.raises(duckdb.ConstraintException):
        store.replace_partitions([DayBatch(day.day, [day.records[1], broken], 2)],
                                 "sample", "stackoverflow")
    assert {b.day: count(store, b.day) for b in batches} == before
    assert store.partition_loads()[1].stored_count == before[day.day]


def test_an_empty_day_is_recorded_as_loaded(tmp_path):
    store = QuestionStore(tmp_path / "q.duckdb")
    assert store.replace_partitions([DayBatch(date(2030, 1, 1), [], 0)], "api", "so") == {
        date(2030, 1, 1): 0}
    assert store.partition_loads()[0].reported_count == 0


def test_reading_a_missing_database_says_what_to_do(tmp_path):
    store = QuestionStore(tmp_path / "absent.duckdb")
    with pytest.raises(FileNotFoundError, match="materialize raw_questions first"), \
            store.connect(read_only=True):
        pass


def test_the_duckdb_file_is_never_written_on_a_network_filesystem(tmp_path, monkeypatch):
    from so_assets.storage import filesystems

    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nnas:/export {tmp_path / 'nfs'} nfs4 rw 0 0\n")
    (tmp_path / "nfs").mkdir()
    assert filesystems.filesystem_of(tmp_path / "nfs" / "q.duckdb", mounts) == "nfs4"
    assert filesystems.filesystem_of(tmp_path / "local" / "q.duckdb", mounts) == "ext4"
    with pytest.raises(ValueError, match=r"is on a network filesystem \(nfs4\): DuckDB's "
                                         r"one-writer lock does not hold there"):
        filesystems.refuse_network_writes(tmp_path / "nfs" / "q.duckdb", mounts)
    monkeypatch.setenv(filesystems.ALLOW_NETWORK_DUCKDB, "1")
    filesystems.refuse_network_writes(tmp_path / "nfs" / "q.duckdb", mounts)


def test_a_local_duckdb_file_publishes_a_snapshot_the_shared_folder_reads(tmp_path):
    """The one writer keeps the file on its own disk; after each write the shared folder gets
    a consistent copy, which other machines read (and could not write)."""
    from so_assets.storage.stores import Stores

    writer = Stores(tmp_path / "shared", duckdb_path=tmp_path / "local" / "so_assets.duckdb")
    writer.questions.replace_partitions(sample_batches([date(2024, 3, 1)]), "sample",
                                        "stackoverflow")
    reader = Stores(tmp_path / "shared")
    assert reader.questions.path == tmp_path / "shared" / "so_assets.duckdb"
    assert reader.questions.path.exists() and writer.questions.path.exists()
    with reader.questions.connect(read_only=True) as con:
        shared = con.execute("SELECT count(*) FROM raw_questions").fetchone()[0]
    with writer.questions.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_questions").fetchone()[0] == shared > 0
    assert not list((tmp_path / "shared").glob(".*.tmp"))
