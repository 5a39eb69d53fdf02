"""CPU time and resident memory of a process and every process below it, read from /proc.

A step's work does not stay in one process: `tfidf_linear` fits its labels on worker
processes (loky) that live as long as the pool, so a figure read from the benchmarked process
alone (``time.process_time``, its /proc/PID/stat, its VmHWM) misses them. Here a process tree's
CPU is the sum, over every live process in it, of its own user + system time and that of its
children already waited for (a worker's time moves into its parent's when it is reaped, so it
is counted once either way); its memory is the sum of their resident sets at one moment.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
INTERVAL_S = 0.2


@dataclass(frozen=True)
class Reading:
    """One moment of a process tree."""

    at: float  # Unix time
    cpu_s: float  # user + system, the tree's live processes and their reaped children
    rss_mb: float  # resident memory, summed over the tree's live processes
    processes: int


def _stat(pid: str) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds incl. reaped children, RSS MB) of one process, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    cpu = sum(int(f) for f in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
    return int(fields[1]), cpu, int(fields[21]) * PAGE_MB


def read_tree(root: int) -> Reading | None:
    """``root`` and its descendants now; None when ``root`` is gone."""
    stats = {int(pid): s for pid in os.listdir("/proc") if pid.isdigit()
             and (s := _stat(pid)) is not None}
    if root not in stats:
        return None
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    tree, queue = [], [root]
    while queue:
        pid = queue.pop()
        tree.append(pid)
        queue.extend(children.get(pid, []))
    return Reading(time.time(), sum(stats[p][1] for p in tree),
                   sum(stats[p][2] for p in tree), len(tree))


@dataclass
class TreeSampler:
    """Samples a process tree every ``INTERVAL_S`` on a thread while it runs (``with``): its
    readings, the CPU spent and the highest summed RSS seen. A spike shorter than the interval
    can be missed; ``peak_mb`` is at least the root's own high-water mark (VmHWM)."""

    root: int = field(default_factory=os.getpid)
    readings: list[Reading] = field(default_factory=list)
    root_high_water_mb: float = 0.0

    def __post_init__(self) -> None:
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._done.wait(INTERVAL_S):
            self._sample()

    def _sample(self) -> None:
        reading = read_tree(self.root)
        if reading is not None:
            self.readings.append(reading)
            self.root_high_water_mb = max(self.root_high_water_mb, _high_water_mb(self.root))

    @property
    def cpu_s(self) -> float:
        """CPU seconds the tree spent between the first and the last reading."""
        return self.readings[-1].cpu_s - self.readings[0].cpu_s if self.readings else 0.0

    @property
    def peak_mb(self) -> float:
        return max([r.rss_mb for r in self.readings] + [self.root_high_water_mb])

    def cpu_at(self, when: float) -> float:
        """The tree's CPU seconds by ``when`` (the last reading at or before it)."""
        spent = 0.0
        for reading in self.readings:
            if reading.at > when:
                break
            spent = reading.cpu_s
        return spent

    def peak_between(self, start: float, end: float) -> float:
        return max((r.rss_mb for r in self.readings if start <= r.at <= end + INTERVAL_S),
                   default=0.0)


def _high_water_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
