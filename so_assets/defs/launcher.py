"""The default run launcher, plus the worker health check that run monitoring needs.

Dagster's ``DefaultRunLauncher`` cannot tell whether a run's process is alive, so run
monitoring never fails a run whose worker was killed and its pool slots stay taken. This
launcher records the worker's host and answers the health check from the worker's process id;
``dagster.yaml`` turns run monitoring on with it.
"""

from __future__ import annotations

import socket

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus

from so_assets.defs.run_health import HOST_TAG, worker_state


class MonitoredRunLauncher(dg.DefaultRunLauncher):
    """Launches like the default launcher; a run whose process died is reported FAILED."""

    def launch_run(self, context: LaunchRunContext) -> None:
        self._instance.add_run_tags(context.dagster_run.run_id,
                                      {HOST_TAG: socket.gethostname()})
        super().launch_run(context)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        state = worker_state(self._instance, run)
        if state == "dead":
            return CheckRunHealthResult(WorkerStatus.FAILED, "the run's process is gone")
        # Unknown (another machine's worker, no process id yet) counts as running: monitoring
        # fails any run whose health is not RUNNING, and a live run must never be failed.
        return CheckRunHealthResult(WorkerStatus.RUNNING, None if state == "running"
                                    else "cannot tell from this machine")
