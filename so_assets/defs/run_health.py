"""Whether a run's worker process still lives, and failing the runs whose worker died.

A run killed with ``kill -9`` (its CLI, its run worker) stays STARTED in the instance and keeps
its ``duckdb`` pool slot, so every later run waits forever. The orchestrating process's id is
in the run's RUN_START event; when no process has that id on this machine any more, the run
cannot finish: it is marked failed and its concurrency slots are freed.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading

import dagster as dg

from so_assets.storage.leftovers import process_alive

HOST_TAG = "so_assets/worker_host"


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The id of the process that started orchestrating the run (None before it started)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    if not records:
        return None
    event = records[0].event_log_entry.dagster_event
    return event.pid if event is not None else None


def worker_state(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """``running``, ``dead`` (its process is gone from this machine) or ``unknown``: a run
    is judged only when it says which host it runs on and that host is this one (with
    shared instance storage a pid means nothing on another machine)."""
    host = run.tags.get(HOST_TAG)
    if host != socket.gethostname():
        return "unknown"  # another machine's run, or one that never said where it runs
    pid = worker_pid(instance, run.run_id)
    if pid is None:
        return "unknown"
    return "running" if process_alive(pid) else "dead"


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every STARTED run whose worker died, and free its pool slots."""
    failed = []
    for record in instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        if worker_state(instance, run) != "dead":
            continue
        pid = worker_pid(instance, run.run_id)
        instance.report_run_failed(run, f"the run's process (pid {pid}) is gone: marked failed "
                                        "and its concurrency slots freed")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


def fail_dead_runs_of_this_instance() -> list[str]:
    """:func:`fail_dead_runs` on the instance ``DAGSTER_HOME`` names."""
    with dg.DagsterInstance.get() as instance:
        return fail_dead_runs(instance)


def record_worker_host(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """Tag ``run`` with this host when this process is its orchestrator or a step process the
    orchestrator started here (runs of ``dagster job execute`` carry no launcher's tag); a
    step on another machine (Celery) tags nothing."""
    if HOST_TAG in run.tags:
        return
    pid = worker_pid(instance, run.run_id)
    parent = multiprocessing.parent_process()
    if pid is not None and pid in (os.getpid(), parent.pid if parent else None):
        instance.add_run_tags(run.run_id, {HOST_TAG: socket.gethostname()})


_watching = threading.Event()


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """In a step process started by the multiprocess executor, exit as soon as the run's
    process (its parent) is gone, instead of running on and writing without it."""
    parent = multiprocessing.parent_process()
    if parent is None or _watching.is_set():
        return
    _watching.set()

    def watch() -> None:
        while parent.is_alive():
            threading.Event().wait(poll_seconds)
        os._exit(70)  # nothing to clean up that the next writer does not: leave at once

    threading.Thread(target=watch, name="so-assets-parent-watch", daemon=True).start()
