"""A run killed with kill -9: its step processes exit, monitoring sees it dead, the recovery
command frees its pool slot, and the next run completes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from so_assets_tests.api_server import ApiServer, Reply, Trickle
from so_assets_tests.conftest import instance_home

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DAYS = {"dagster/asset_partition_range_start": "2024-03-01",
        "dagster/asset_partition_range_end": "2024-03-03"}


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, FileNotFoundError):
        return False


def wait_for(condition, seconds: float = 120.0, step: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def test_a_killed_run_releases_its_steps_and_its_pool_slot(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    instance_home(home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "SO_ASSETS_DATA_DIR": str(tmp_path / "data")}
    with ApiServer() as server:
        # A source that answers a byte every 5 s: the step would wait for an hour.
        server.api.handler = lambda path, params: Trickle(Reply(200, {"items": []}), 5.0)
        config = tmp_path / "stalled.yaml"
        config.write_text(yaml.safe_dump({"resources": {"source": {"config": {
            "kind": "api", "options": {"api_root": server.url, "max_retries": 0,
                                       "timeout_seconds": 3600}}}}}))
        run = subprocess.Popen(
            [str(BIN / "dagster"), "job", "execute", "-m", "so_assets.definitions", "-j",
             "ingest_questions_job", "-c", str(config), "--tags", json.dumps(DAYS)],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: server.api.requests), "the step never reached the source"
        steps = children_of(run.pid)
        assert steps, "the multiprocess executor started no step process"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        assert wait_for(lambda: not any(alive(pid) for pid in steps)), (
            "step processes outlived their killed run")

    import dagster as dg

    from so_assets.defs.launcher import MonitoredRunLauncher
    from so_assets.defs.run_health import HOST_TAG

    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            (killed,) = instance.get_runs()
            assert killed.status == dg.DagsterRunStatus.STARTED  # what the kill left behind
            assert killed.tags[HOST_TAG] == socket.gethostname()  # the CLI run said where
            assert isinstance(instance.run_launcher, MonitoredRunLauncher)
            health = instance.run_launcher.check_run_worker_health(killed)
            assert health.status.value == "FAILED"  # what the daemon's run monitoring sees
    finally:
        del os.environ["DAGSTER_HOME"]

    recover = subprocess.run([str(BIN / "so-assets"), "recover-runs"], env=env,
                             capture_output=True, text=True)
    assert recover.returncode == 0, recover.stderr
    assert "1 run(s)" in recover.stdout and killed.run_id in recover.stdout
    again = subprocess.run(
        [str(BIN / "dagster"), "job", "execute", "-m", "so_assets.definitions", "-j",
         "ingest_questions_job", "--tags", json.dumps(DAYS)],
        cwd=REPO, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "RUN_SUCCESS" in again.stdout + again.stderr
