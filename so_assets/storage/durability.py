"""Flushing written files and folders to disk before anything points at them."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder`` and the folders themselves to disk, so a crash after
    the ``current`` link moves cannot leave it pointing at files the disk never got."""
    for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for directory in [*sorted((p for p in folder.rglob("*") if p.is_dir()),
                              key=lambda p: -len(p.parts)), folder]:
        fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries (a rename or a new link in it) to disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
