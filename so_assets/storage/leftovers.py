"""What a killed writer leaves behind, and how the next writer recognises it.

Temporary files and unfinished folders carry their writer's host and process id in their names
(``.x.h5.<host>~<pid>.tmp``, ``v<stamp>-<host>~<pid>``). One is removed only when its writer
ran on this machine and its process is gone: a writer on another machine sharing the folder
(NFS) is never judged by this machine's process table, and a name without a host is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

_WRITER_RE = re.compile(r"[.-](?P<host>[A-Za-z0-9-]+)~(?P<pid>\d+)(?:\.tmp)?$")


def this_host() -> str:
    """This machine's name as temporary names carry it (letters, digits and dashes)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def writer_suffix() -> str:
    """``<host>~<pid>`` of this process, for the names of what it is writing."""
    return f"{this_host()}~{os.getpid()}"


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (ours always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def writer_of(path: Path) -> tuple[str, int] | None:
    """(host, pid) a temporary name carries, None when it names no host."""
    match = _WRITER_RE.search(path.name)
    return (match["host"], int(match["pid"])) if match else None


def remove_if_abandoned(path: Path) -> bool:
    """Remove ``path`` (file or folder) when its writer ran here and its process is gone."""
    writer = writer_of(path)
    if writer is None or writer[0] != this_host() or process_alive(writer[1]):
        return False
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return True
