"""Atomic HDF5 writes: a process killed mid-write leaves the previous file intact."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import h5py
import numpy as np

from so_assets.storage.embedding_store import write_h5_atomic
from so_assets.storage.leftovers import this_host


def test_killed_mid_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "2024-03-01.h5"
    write_h5_atomic(path, {"question_id": np.arange(3), "title": np.ones((3, 4), np.float32)},
                    {"content_hash": "old"})
    script = textwrap.dedent(f"""
        import os, signal
        import numpy as np
        from pathlib import Path
        from so_assets.storage.embedding_store import write_h5_atomic

        class DiesWhenRead:
            def __array__(self, dtype=None, copy=None):
                os.kill(os.getpid(), signal.SIGKILL)

        write_h5_atomic(Path({str(path)!r}), {{
            "question_id": np.arange(50), "title": np.zeros((50, 4), np.float32),
            "body": DiesWhenRead()}}, {{"content_hash": "new"}})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert done.returncode == -9, done.stderr.decode()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1  # it died half-way through the temporary file
    with h5py.File(path) as h5:
        assert h5.attrs["content_hash"] == "old"
        assert h5["title"].shape == (3, 4) and np.all(h5["title"][:] == 1)


def test_rewriting_replaces_the_file_exactly(tmp_path):
    path = tmp_path / "d.h5"
    write_h5_atomic(path, {"a": np.arange(5)}, {"v": 1})
    write_h5_atomic(path, {"b": np.arange(2)}, {"v": 2})
    with h5py.File(path) as h5:
        assert list(h5) == ["b"] and h5.attrs["v"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["d.h5"]


def test_the_next_write_removes_a_killed_writers_temporary_file(tmp_path):
    path = tmp_path / "2024-03-01.h5"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited: its temporary can never finish
    stale = tmp_path / f".{path.name}.{this_host()}~{dead_pid}.tmp"
    stale.write_bytes(b"half an HDF5 file")
    other = tmp_path / f".other.h5.{this_host()}~{dead_pid}.tmp"
    other.write_bytes(b"another day's leftover")
    write_h5_atomic(path, {"a": np.arange(3)}, {})
    assert not stale.exists() and other.exists()  # only this file's leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, path.name]


def test_another_machines_temporary_is_never_removed(tmp_path):
    """On shared storage a process id means nothing on another machine: a writer of another
    host (or a name without a host) may still be writing, whatever this machine's pids say."""
    path = tmp_path / "2024-03-01.h5"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    theirs = tmp_path / f".{path.name}.gpu-worker-7~{int(dead.stdout)}.tmp"
    legacy = tmp_path / f".{path.name}.{int(dead.stdout)}.tmp"
    for leftover in (theirs, legacy):
        leftover.write_bytes(b"being written elsewhere")
    write_h5_atomic(path, {"a": np.arange(3)}, {})
    assert theirs.exists() and legacy.exists()
