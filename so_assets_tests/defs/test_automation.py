"""Declarative automation evaluated by Dagster's own helpers against a real instance: a reloaded
day flows to exactly that day's questions and embeddings; the rest waits for its cadence."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import dagster as dg
import pytest

from so_assets.definitions import defs
from so_assets.defs.automation import embed_new_tags, retrain_on_new_questions
from so_assets.storage.embedding_store import TOKENS, VECTORS

DAYS = ["2024-03-04", "2024-03-05", "2024-03-06"]
PER_DAY = ["raw_questions", "questions", VECTORS, TOKENS]
START = datetime(2024, 3, 7, 12, 0)


def materialize(instance: dg.DagsterInstance, key: str, partition: str | None = None,
                **metadata) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(key, partition=partition, metadata=metadata))


@pytest.fixture
def everything_materialized():
    """An instance where the three days and every unpartitioned asset are up to date."""
    instance = dg.DagsterInstance.ephemeral()
    for key in PER_DAY:
        for day in DAYS:
            materialize(instance, key, day)
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if not graph.get(key).is_partitioned:
            materialize(instance, key.to_user_string())
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                              evaluation_time=START)
    return instance, first


def requested(result) -> dict[str, set[str | None]]:
    """Asset name -> the partitions (None when unpartitioned) the evaluation requested."""
    return {key.to_user_string(): set(result.get_requested_partitions(key))
            for key in defs.resolve_asset_graph().get_all_asset_keys()
            if result.get_num_requested(key)}


def test_up_to_date_data_requests_nothing(everything_materialized):
    instance, first = everything_materialized
    assert first.total_requested == 0
    again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor,
                                              evaluation_time=START + timedelta(minutes=1))
    assert again.total_requested == 0


def test_a_reloaded_day_flows_to_that_days_questions_and_embeddings(everything_materialized):
    instance, first = everything_materialized
    materialize(instance, "raw_questions", DAYS[1])
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor,
                                               evaluation_time=START + timedelta(minutes=1))
    # one run: the day's questions rows, its two embedding partitions, and that day's
    # predictions and live quality; not the other days, not the tag tree, models or
    # reports, which wait for their cadence
    daily = ("questions", VECTORS, TOKENS, "tag_predictions", "score_predictions",
             "live_tag_quality")
    assert requested(second) == {key: {DAYS[1]} for key in daily}

    for key in daily:
        materialize(instance, key, DAYS[1])
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor,
                                              evaluation_time=START + timedelta(minutes=2))
    # then only what reads every day and is cheap: the exploration and live quality reports
    assert requested(third) == {"eda_report": {None}, "live_quality_report": {None}}
    fourth = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=third.cursor,
                                               evaluation_time=START + timedelta(minutes=3))
    assert fourth.total_requested == 0


def test_the_cadence_rebuilds_tree_labels_splits_and_models_together(everything_materialized):
    instance, first = everything_materialized
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor,
                                             evaluation_time=START + timedelta(days=7))
    names = set(requested(tick))
    # one run: the tree, labels, splits, every model, and the reports that read them
    assert {"tag_tree", "tag_labels", "dataset_splits", "tag_model_tfidf_linear",
            "score_model_xgboost", "embedding_analysis", "tag_clustering_report",
            "tag_evaluation_report", "score_evaluation_report"} <= names
    assert not names & {"raw_questions", "questions", VECTORS, TOKENS, "tag_embeddings"}
    # and not again before the next tick
    later = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor,
                                              evaluation_time=START + timedelta(days=7, hours=1))
    assert later.total_requested == 0


def test_reports_follow_the_models(everything_materialized):
    instance, first = everything_materialized
    materialize(instance, "tag_model_mlp")
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor,
                                              evaluation_time=START + timedelta(minutes=1))
    # the report, then the production decision that reads it (in the same run)
    assert requested(after) == {"tag_evaluation_report": {None}, "production_models": {None}}


def test_new_tags_sensor_requests_tag_embeddings_once(everything_materialized):
    instance, _ = everything_materialized
    materialize(instance, "questions", DAYS[0], new_tags=0)
    context = dg.build_sensor_context(instance=instance)
    assert isinstance(embed_new_tags(context), dg.SkipReason)
    materialize(instance, "questions", DAYS[1], new_tags=3)
    context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
    request = embed_new_tags(context)
    assert isinstance(request, dg.RunRequest)
    assert embed_new_tags.asset_selection.resolve(defs.resolve_asset_graph()) == {
        dg.AssetKey("tag_embeddings")}
    assert isinstance(embed_new_tags(dg.build_sensor_context(instance=instance,
                                                             cursor=context.cursor)),
                      dg.SkipReason)


def test_enough_new_questions_rebuild_the_tree_before_the_cadence(monkeypatch,
                                                                  everything_materialized):
    instance, _ = everything_materialized
    monkeypatch.setattr("so_assets.defs.automation.RETRAIN_AFTER_NEW_QUESTIONS", 100)
    materialize(instance, "questions", DAYS[0], total_questions=1000)
    materialize(instance, "tag_tree")
    materialize(instance, "questions", DAYS[1], total_questions=1050)
    skip = retrain_on_new_questions(dg.build_sensor_context(instance=instance))
    assert isinstance(skip, dg.SkipReason) and "50 new questions" in skip.skip_message
    materialize(instance, "questions", DAYS[2], total_questions=1120)
    request = retrain_on_new_questions(dg.build_sensor_context(instance=instance))
    assert isinstance(request, dg.RunRequest)
    selected = retrain_on_new_questions.asset_selection.resolve(defs.resolve_asset_graph())
    assert dg.AssetKey("tag_tree") in selected and dg.AssetKey("questions") not in selected


def test_sensors_and_schedule_run_by_default():
    running = dg.DefaultSensorStatus.RUNNING
    for name in ("automation", "embed_new_tags", "retrain_on_new_questions"):
        assert defs.get_sensor_def(name).default_status == running
    assert (defs.get_schedule_def("daily_question_refresh").default_status
            == dg.DefaultScheduleStatus.RUNNING)


def test_partitions_start_on_stackoverflows_first_day_whatever_the_source():
    """One rule: the source (by environment or run config) never moves the partitions."""
    def first_day(**env: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "SO_ASSETS_FIRST_DAY"} | env
        done = subprocess.run(
            [sys.executable, "-c", "from so_assets.defs.partitions import daily_partitions as p;"
                                   "print(p.start.date())"],
            env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    assert first_day(SO_ASSETS_SOURCE="sample") == "2008-07-31"
    assert first_day(SO_ASSETS_SOURCE="api") == "2008-07-31"
    assert first_day(SO_ASSETS_SOURCE="sample", SO_ASSETS_FIRST_DAY="2020-01-01") == "2020-01-01"
