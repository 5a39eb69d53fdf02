"""The Dagster layer end to end: partitioned runs, checks, re-materialization, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from so_assets.definitions import defs as project_defs
from so_assets.defs.automation import daily_question_refresh, stackoverflow_pipeline
from so_assets.defs.exploration import eda_report
from so_assets.defs.ingestion import (
    no_empty_titles,
    no_skipped_items,
    no_unexpected_empty_days,
    questions,
    raw_questions,
    raw_row_counts_match_source,
    unique_question_ids,
)
from so_assets.defs.resources import SourceResource, StorageResource
from so_assets_tests.api_server import DROP, Reply
from so_assets_tests.conftest import instance_home
from so_assets_tests.stackexchange.test_client import DAY_EPOCH, page, question

ASSETS = [raw_questions, questions, eda_report]
CHECKS = [raw_row_counts_match_source, unique_question_ids, no_empty_titles,
          no_unexpected_empty_days, no_skipped_items]
RANGE = {"dagster/asset_partition_range_start": "2024-03-01",
         "dagster/asset_partition_range_end": "2024-03-03"}


def resources(data_dir: Path, kind: str = "sample", site: str = "stackoverflow",
              **options) -> dict:
    return {"storage": StorageResource(data_dir=str(data_dir)),
            "source": SourceResource(kind=kind, site=site, options=options)}


def run_pipeline(data_dir: Path, **source) -> dg.ExecuteInProcessResult:
    definitions = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, jobs=[stackoverflow_pipeline],
                                 resources=resources(data_dir, **source))
    job = definitions.resolve_job_def("stackoverflow_pipeline")
    return job.execute_in_process(tags=RANGE, instance=dg.DagsterInstance.ephemeral())


def day_counts(data_dir: Path, table: str = "raw_questions") -> dict[str, int]:
    with duckdb.connect(str(data_dir / "so_assets.duckdb"), read_only=True) as con:
        return {str(d): n for d, n in con.execute(
            f"SELECT creation_day, count(*) FROM {table} GROUP BY 1 ORDER BY 1").fetchall()}


def test_pipeline_over_a_partition_range_materializes_everything(tmp_path):
    result = run_pipeline(tmp_path, kind="sample")
    assert result.success
    assert list(day_counts(tmp_path)) == ["2024-03-01", "2024-03-02", "2024-03-03"]
    events = [e.event_specific_data.materialization
              for e in result.get_asset_materialization_events()]
    materialized = {(m.asset_key.path[-1], m.partition) for m in events}
    days = ("2024-03-01", "2024-03-02", "2024-03-03")
    assert {(name, d) for d in days for name in ("raw_questions", "questions")} <= materialized
    assert ("eda_report", None) in materialized
    # each partition carries its own row count, not the run's total
    counts = day_counts(tmp_path, "questions")
    for m in events:
        if m.asset_key.path[-1] == "questions":
            assert m.metadata["dagster/row_count"].value == counts[m.partition]
    assert len(set(counts.values())) > 1
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {c.check_key.name for c in CHECKS}
    assert all(c.passed for c in checks)
    assert (tmp_path / "reports" / "eda" / "eda_report.md").exists()


def test_rematerializing_a_partition_changes_no_row_count(tmp_path):
    assert run_pipeline(tmp_path, kind="sample").success
    raw_before, questions_before = day_counts(tmp_path), day_counts(tmp_path, "questions")
    result = dg.materialize([raw_questions, questions], partition_key="2024-03-02",
                            resources=resources(tmp_path, kind="sample"),
                            selection=[raw_questions])
    assert result.success
    assert dg.materialize([raw_questions, questions], resources=resources(tmp_path, kind="sample"),
                          partition_key="2024-03-02", selection=[questions]).success
    assert day_counts(tmp_path) == raw_before
    assert day_counts(tmp_path, "questions") == questions_before


def test_a_connection_dropped_mid_partition_keeps_the_previous_rows(tmp_path, api_server):
    items = [question(90_000 + i, offset=i * 60) for i in range(150)]
    api_server.api.add("/2.3/questions", Reply(200, page(items[:100], True)),
                       Reply(200, page(items[100:])))
    source = {"kind": "api", "api_root": api_server.url, "max_retries": 1,
              "initial_retry_seconds": 0.01}
    day = datetime.fromtimestamp(DAY_EPOCH, UTC).date().isoformat()
    ok = dg.materialize([raw_questions], partition_key=day, resources=resources(tmp_path, **source))
    assert ok.success and day_counts(tmp_path) == {day: 150}

    # The next pull gets page 1, then the connection drops on page 2, every time.
    api_server.api.routes.clear()
    api_server.api.add("/2.3/questions", Reply(200, page([*items[:100], question(99999)], True)),
                       DROP)
    failed = dg.materialize([raw_questions], partition_key=day,
                            resources=resources(tmp_path, **source), raise_on_error=False)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data.error
    assert "gave up after 2 attempts" in str(failure.cause or failure)
    assert day_counts(tmp_path) == {day: 150}


def test_schedule_pulls_the_newest_day_and_the_day_before():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 22, 0, 30, tzinfo=UTC))
    request = daily_question_refresh.evaluate_tick(context).run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "2026-11-20"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-11-21"
    assert request.run_key == "refresh-2026-11-21"


def test_definitions_name_the_design_assets_and_share_one_duckdb_pool():
    keys = {k.to_user_string() for k in project_defs.resolve_all_asset_keys()}
    assert {"raw_questions", "questions", "eda_report"} <= keys
    for name in ("ingest_questions_job", "stackoverflow_pipeline"):
        assert project_defs.resolve_job_def(name).partitions_def is not None
    for name in ("raw_questions", "questions", "eda_report"):
        assert project_defs.resolve_assets_def(name).node_def.pool == "duckdb"


def test_dagster_definitions_validate():
    repo = Path(__file__).resolve().parents[2]
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run([str(dagster), "definitions", "validate", "-m", "so_assets.definitions"],
                          cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Validation successful" in done.stderr + done.stdout


@pytest.mark.slow
def test_dagster_cli_runs_the_pipeline(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    repo = Path(__file__).resolve().parents[2]
    instance_home(home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "SO_ASSETS_DATA_DIR": str(tmp_path / "data")}
    dagster = Path(sys.executable).with_name("dagster")
    # the sample's run config, holding back one of the three days (it holds back three)
    config = yaml.safe_load((repo / "data/sample/run_config.yaml").read_text())
    config["ops"]["dataset_splits"]["config"]["holdout_days"] = 1
    (tmp_path / "run_config.yaml").write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [str(dagster), "job", "execute", "-m", "so_assets.definitions", "-j",
         "stackoverflow_pipeline", "-c", str(tmp_path / "run_config.yaml"),
         "--tags", json.dumps(RANGE)],
        cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr + done.stdout
    assert sum(day_counts(tmp_path / "data").values()) > 100
    # the reports hold every registered model, with figures in range
    from so_assets.models.registry import SCORE_MODELS, TAG_MODELS

    reports = tmp_path / "data" / "reports"
    tag_report = (reports / "tag_evaluation" / "tag_evaluation_report.md").read_text()
    score_report = (reports / "score_evaluation" / "score_evaluation_report.md").read_text()
    for spec in TAG_MODELS:
        assert f"| {spec.name.replace('_', chr(92) + '_')} |" in tag_report, spec.name
    for spec in SCORE_MODELS:
        assert f"| {spec.name.replace('_', chr(92) + '_')} |" in score_report, spec.name
    with duckdb.connect(str(tmp_path / "data" / "so_assets.duckdb"), read_only=True) as con:
        f1 = dict(con.execute("SELECT model, value FROM tag_model_metrics WHERE level = "
                              "'clusters' AND metric = 'micro_f1'").fetchall())
        rmse = dict(con.execute("SELECT model, value FROM score_model_metrics WHERE metric = "
                                "'rmse_log'").fetchall())
    assert set(f1) == {s.name for s in TAG_MODELS} | {"most_frequent_baseline"}
    assert all(0.0 <= v <= 1.0 for v in f1.values()), f1
    assert max(f1.values()) >= f1["most_frequent_baseline"] + 0.2, f1
    assert set(rmse) == {s.name for s in SCORE_MODELS}
    assert all(0.0 < v < 5.0 for v in rmse.values()), rmse


def test_a_corrupt_dump_fails_clearly_and_keeps_the_loaded_days(tmp_path):
    from so_assets_tests.conftest import real_path

    posts = real_path("beer-stackexchange-dump", "Posts.xml")
    day = "2014-01-21"
    good = dg.materialize([raw_questions], partition_key=day,
                          resources=resources(tmp_path, kind="dump", path=str(posts), site="beer"))
    assert good.success
    before = day_counts(tmp_path)
    assert before[day] > 10
    text = posts.read_text(encoding="utf-8-sig")
    broken = tmp_path / "Posts.xml"
    broken.write_text(text[: len(text) * 2 // 3] + '<row Id="9" Body="cut', encoding="utf-8")
    failed = dg.materialize([raw_questions], partition_key=day, raise_on_error=False,
                            resources=resources(tmp_path, kind="dump", path=str(broken),
                                                site="beer"))
    assert not failed.success
    error = failed.get_step_failure_events()[0].step_failure_data.error
    assert "XML error at line" in str(error.cause or error)
    assert day_counts(tmp_path) == before


@pytest.mark.slow
def test_choosing_the_api_by_run_config_needs_no_environment(tmp_path):
    """The README's switch: `kind: api` in run config, SO_ASSETS_SOURCE and
    SO_ASSETS_FIRST_DAY unset, a 2014 day; partitions start where they always do."""
    from so_assets_tests.api_server import ApiServer

    home = instance_home(tmp_path / "home")
    env = {k: v for k, v in os.environ.items()
           if k not in ("SO_ASSETS_SOURCE", "SO_ASSETS_FIRST_DAY", "SO_ASSETS_SITE")}
    env |= {"DAGSTER_HOME": str(home), "SO_ASSETS_DATA_DIR": str(tmp_path / "data")}
    with ApiServer() as server:
        day_2014 = 1393977600  # 2014-03-05T00:00:00Z, before the bundled sample's days
        server.api.add("/2.3/questions", Reply(200, page([question(7, day_2014 - DAY_EPOCH +
                                                                   60)])))
        config = tmp_path / "api.yaml"
        config.write_text(json.dumps({"resources": {"source": {"config": {
            "kind": "api", "options": {"api_root": server.url, "max_retries": 0}}}}}))
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m",
             "so_assets.definitions", "-j", "ingest_questions_job", "-c", str(config),
             "--tags", json.dumps({"dagster/asset_partition_range_start": "2014-03-05",
                                   "dagster/asset_partition_range_end": "2014-03-05"})],
            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert day_counts(tmp_path / "data") == {"2014-03-05": 1}
    assert (home / "compute_logs").is_dir() and not (tmp_path / "data" / "dagster_home").exists()
