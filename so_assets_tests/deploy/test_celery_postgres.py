"""Past one machine, for real: the sample's ingestion and embedding steps of three days run
through two Celery workers (Redis broker) against a PostgreSQL instance, and build exactly the
DuckDB rows and HDF5 files that one in-process run builds. No mock of any of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import h5py
import numpy as np
import pytest
import yaml

from so_assets_tests.deploy.services import postgres_database, redis_url

REPO = Path(__file__).resolve().parents[2]
DAYS = ("2024-03-01", "2024-03-03")
SELECTION = "raw_questions,questions,question_embeddings,question_token_embeddings"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def in_process_build(data_dir: Path) -> None:
    from so_assets.defs.embeddings import question_embedding_partitions
    from so_assets.defs.ingestion import questions, raw_questions
    from so_assets.defs.resources import StorageResource, default_resources

    resources = {**default_resources(), "storage": StorageResource(data_dir=str(data_dir))}
    job = dg.define_asset_job("build", executor_def=dg.in_process_executor)
    defs = dg.Definitions(assets=[raw_questions, questions, question_embedding_partitions],
                          jobs=[job], resources=resources)
    result = defs.resolve_job_def("build").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": DAYS[0],
              "dagster/asset_partition_range_end": DAYS[1]})
    assert result.success


def table(data_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data_dir / "so_assets.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def h5_files(data_dir: Path) -> dict[str, Path]:
    root = data_dir / "embeddings"
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*.h5"))}


def start_worker(name: str, queues: list[str], config: Path, env: dict, log: Path
                 ) -> subprocess.Popen:
    args = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-n",
            f"{name}@%h", "-y", str(config), "-l", "info"]
    # one comma-separated -q: dagster-celery passes each -q as its own -Q, and Celery keeps
    # only the last one
    args += ["-q", ",".join(queues)]
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_ready(workers: list[subprocess.Popen], logs: list[Path],
                     seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for worker, log in zip(workers, logs, strict=True):
            if worker.poll() is not None:
                pytest.fail(f"Celery worker exited:\n{log.read_text()[-3000:]}")
        if all(" ready." in log.read_text() for log in logs):
            for log, queues in zip(logs, (["duckdb", "dagster"], ["embed", "dagster"]),
                                   strict=True):
                assert all(f".> {q} " in log.read_text() for q in queues), log.read_text()
            return
        time.sleep(1)
    pytest.fail("Celery workers not ready after 120 s:\n" + logs[0].read_text()[-2000:])


def test_celery_workers_on_postgres_build_what_one_process_builds(tmp_path):
    broker = redis_url()
    with postgres_database() as pg:
        home = tmp_path / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text((REPO / "deploy/dagster.production.yaml").read_text())
        config = tmp_path / "celery_worker.yaml"
        config.write_text(yaml.safe_dump({"execution": {"config": {"broker": broker,
                                                                    "backend": broker}}}))
        env = {**os.environ, **pg, "DAGSTER_HOME": str(home),
               "SO_ASSETS_DATA_DIR": str(tmp_path / "celery"),
               "SO_ASSETS_COMPUTE_LOG_DIR": str(tmp_path / "compute_logs"),
               "SO_ASSETS_CELERY_BROKER": broker, "HF_HUB_OFFLINE": "1",
               "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
        logs = [tmp_path / "worker_duckdb.log", tmp_path / "worker_embed.log"]
        workers = [start_worker("duckdb", ["duckdb", "dagster"], config, env, logs[0]),
                   start_worker("embed", ["embed", "dagster"], config, env, logs[1])]
        try:
            wait_until_ready(workers, logs)
            done = subprocess.run(
                [str(BIN / "dagster"), "asset", "materialize", "-m", "so_assets.definitions",
                 "--select", SELECTION, "--partition-range", "...".join(DAYS)],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
        output = done.stdout + done.stderr
        assert done.returncode == 0 and "RUN_SUCCESS" in output, output[-4000:]
        assert "celery" in output.lower()

        # The run and its events are in PostgreSQL, and each worker executed steps.
        os.environ.update({k: v for k, v in pg.items()})
        try:
            with dg.DagsterInstance.from_config(str(home)) as instance:
                runs = instance.get_runs()
                assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS]
                assert "Postgres" in type(instance.run_storage).__name__
        finally:
            for key in pg:
                os.environ.pop(key, None)
        for log in logs:
            assert "succeeded in" in log.read_text(), log.read_text()[-3000:]

    reference = tmp_path / "in_process"
    in_process_build(reference)
    celery = tmp_path / "celery"
    for sql in ("SELECT * EXCLUDE (ingested_at) FROM raw_questions ORDER BY question_id",
                "SELECT * EXCLUDE (ingested_at) FROM questions ORDER BY question_id",
                "SELECT creation_day, reported_count, stored_count FROM raw_partition_loads "
                "ORDER BY 1"):
        assert table(celery, sql) == table(reference, sql), sql
    files = h5_files(celery)
    assert len(files) == 6 and files.keys() == h5_files(reference).keys()
    for name, path in files.items():
        with h5py.File(path) as a, h5py.File(h5_files(reference)[name]) as b:
            assert set(a) == set(b)
            for dataset in a:
                assert np.allclose(a[dataset][:], b[dataset][:], atol=1e-5), (name, dataset)
