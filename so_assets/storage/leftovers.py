"""What a killed writer leaves behind, and how the next writer recognises it.

Temporary files and unfinished folders carry the writer's process id in their names; one whose
process is gone (on this machine) can never be finished and is removed by the next writer.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_PID_RE = re.compile(r"[.-](\d+)(?:\.tmp)?$")


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


def writer_pid(path: Path) -> int | None:
    """The process id a temporary name carries (``.x.h5.123.tmp``, ``v2024...-123``)."""
    match = _PID_RE.search(path.name)
    return int(match.group(1)) if match else None


def remove_if_abandoned(path: Path) -> bool:
    """Remove ``path`` (file or folder) when the process that was writing it is gone."""
    pid = writer_pid(path)
    if pid is None or process_alive(pid):
        return False
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return True
