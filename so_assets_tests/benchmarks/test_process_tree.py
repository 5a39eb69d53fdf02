"""The benchmarks' process-tree account: work done in worker processes is counted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from process_tree import TreeSampler, read_tree

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

WORKER = """
import sys, time
block = bytearray(150 * 2**20)  # resident: written below
for i in range(0, len(block), 4096):
    block[i] = 1
spent = time.process_time()
while time.process_time() - spent < 0.6:
    pass
print(time.process_time(), flush=True)
sys.stdin.readline()  # stay alive, holding the block, until told
"""


def test_a_live_worker_s_cpu_and_memory_are_in_its_parent_s_tree() -> None:
    with TreeSampler() as usage:
        worker = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        worker_cpu = float(worker.stdout.readline())  # its own CPU, read after the burn
        alive = read_tree(usage.root)
        own = read_tree(worker.pid)
    worker.communicate("\n")
    assert alive is not None and own is not None
    assert alive.processes >= 2
    assert usage.cpu_s >= 0.9 * worker_cpu  # this process alone spent next to nothing
    assert alive.rss_mb >= own.rss_mb >= 150
    assert usage.peak_mb >= alive.rss_mb


def test_a_reaped_worker_s_cpu_stays_in_the_tree() -> None:
    before = read_tree(os.getpid())
    worker = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    worker_cpu = float(worker.stdout.readline())
    worker.communicate("\n")  # waited for: its time moves into this process's children
    after = read_tree(os.getpid())
    assert after.cpu_s - before.cpu_s >= 0.9 * worker_cpu
    assert after.processes == before.processes
