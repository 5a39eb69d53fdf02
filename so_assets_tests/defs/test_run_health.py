"""A run is judged dead only by the machine it says it runs on: with instance storage shared
between machines, a run without a host, or another host's, is never failed from here."""

from __future__ import annotations

import socket
import subprocess
import sys

import dagster as dg
import pytest

from so_assets.defs import run_health


def dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)


@pytest.mark.parametrize(("tags", "state"), [
    ({}, "unknown"),  # no host: another machine's `dagster job execute`, perhaps
    ({run_health.HOST_TAG: "gpu-worker-7"}, "unknown"),
    ({run_health.HOST_TAG: socket.gethostname()}, "dead"),
])
def test_only_this_hosts_runs_are_judged_by_their_process_id(monkeypatch, tags, state):
    pid = dead_pid()
    monkeypatch.setattr(run_health, "worker_pid", lambda instance, run_id: pid)
    with dg.DagsterInstance.ephemeral() as instance:
        run = instance.create_run_for_job(dg.GraphDefinition("g").to_job(), tags=tags)
        assert run_health.worker_state(instance, run) == state
        monkeypatch.setattr(run_health, "worker_pid", lambda instance, run_id: None)
        assert run_health.worker_state(instance, run) == "unknown"


def test_a_run_says_which_host_it_runs_on_from_its_own_process(monkeypatch):
    import os

    with dg.DagsterInstance.ephemeral() as instance:
        run = instance.create_run_for_job(dg.GraphDefinition("g").to_job())
        monkeypatch.setattr(run_health, "worker_pid", lambda instance, run_id: os.getpid())
        run_health.record_worker_host(instance, run)
        assert instance.get_run_by_id(run.run_id).tags[run_health.HOST_TAG] == \
            socket.gethostname()
        other = instance.create_run_for_job(dg.GraphDefinition("h").to_job())
        monkeypatch.setattr(run_health, "worker_pid", lambda instance, run_id: dead_pid())
        run_health.record_worker_host(instance, other)  # not this run's process: no tag
        assert run_health.HOST_TAG not in instance.get_run_by_id(other.run_id).tags
