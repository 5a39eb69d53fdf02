"""Which filesystem a path is on: DuckDB's single writer relies on file locks that network
filesystems (NFS, SMB, sshfs, ...) do not keep reliably, so its file must be on a local disk."""

from __future__ import annotations

import os
from pathlib import Path

NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "fuse.sshfs", "sshfs", "ceph", "fuse.ceph",
    "glusterfs", "fuse.glusterfs", "lustre", "gpfs", "beegfs", "afs", "9p", "fuse.s3fs",
    "fuse.gcsfuse", "fuse.juicefs", "davfs", "fuse.rclone"})

ALLOW_NETWORK_DUCKDB = "SO_ASSETS_ALLOW_NETWORK_DUCKDB"
"""Set to 1 to write the DuckDB file on a network filesystem anyway (one machine only)."""


def filesystem_of(path: Path, mounts: Path = Path("/proc/mounts")) -> str | None:
    """The type of the filesystem holding ``path`` (its longest mount point), None when the
    mount table cannot be read."""
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, kind = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def refuse_network_writes(path: Path, mounts: Path = Path("/proc/mounts")) -> None:
    """Refuse to write a DuckDB file on a network filesystem (see the module's docstring),
    unless :data:`ALLOW_NETWORK_DUCKDB` says otherwise."""
    kind = filesystem_of(path.parent if not path.exists() else path, mounts)
    if kind in NETWORK_FILESYSTEMS and os.environ.get(ALLOW_NETWORK_DUCKDB) != "1":
        raise ValueError(
            f"{path} is on a network filesystem ({kind}): DuckDB's one-writer lock does not "
            "hold there. Keep the DuckDB file on a local disk (SO_ASSETS_DUCKDB_PATH) and the "
            "rest of the data folder shared; other machines then read its snapshot (see "
            f"deploy/README.md), or set {ALLOW_NETWORK_DUCKDB}=1 if only one machine ever "
            "opens it")
