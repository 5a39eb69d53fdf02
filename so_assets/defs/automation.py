"""Jobs, their executors, the daily refresh schedule and the sensors that keep data moving."""

from datetime import timedelta

import dagster as dg

from so_assets.defs.conditions import RETRAIN, RETRAIN_AFTER_NEW_QUESTIONS
from so_assets.defs.embeddings import tag_embeddings
from so_assets.defs.ingestion import questions, raw_questions
from so_assets.defs.placement import heavy_step_executor
from so_assets.defs.tagtree import tag_tree

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

# In one process: the steps are light (seconds of DuckDB work) and share one DuckDB file, so a
# process per step would cost more in start-up than the work, and they cannot run in parallel
# on the one writer anyway.
ingest_questions_job = dg.define_asset_job(
    "ingest_questions_job",
    selection=dg.AssetSelection.assets(raw_questions, questions),
    description="Pull the questions of the selected days and refresh their questions rows.",
    executor_def=dg.in_process_executor,
)

# A process per step (or a Celery worker per step, see heavy_step_executor): embedding and
# training are heavy (minutes, GBs of torch), so each step gets its own memory, returned to the
# OS when it ends, and the torch steps run side by side with the DuckDB steps (the `duckdb`
# pool keeps one writer at a time).
stackoverflow_pipeline = dg.define_asset_job(
    "stackoverflow_pipeline",
    selection=dg.AssetSelection.all(),
    description="Every asset: ingestion, exploration, embeddings, tag tree, models, reports.",
    executor_def=heavy_step_executor(),
)


@dg.schedule(job=ingest_questions_job, cron_schedule="30 0 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def daily_question_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """At 00:30 UTC pull the newest complete day and re-pull the day before it, so late
    scores and accepted answers are caught."""
    newest = (context.scheduled_execution_time - timedelta(days=1)).date()
    before = newest - timedelta(days=1)
    return dg.RunRequest(
        run_key=f"refresh-{newest.isoformat()}",
        tags={RANGE_START_TAG: before.isoformat(), RANGE_END_TAG: newest.isoformat()},
    )


automation = dg.AutomationConditionSensorDefinition(
    "automation", target=dg.AssetSelection.all(), minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Evaluates every asset's automation condition (see defs/conditions.py).")


def _latest_figure(instance: dg.DagsterInstance, key: dg.AssetKey, name: str,
                   before: float | None = None) -> tuple[float, int] | None:
    """(timestamp, value of metadata ``name``) of ``key``'s latest materialization."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, before_timestamp=before), limit=1).records
    if not records or records[0].asset_materialization is None:
        return None
    value = records[0].asset_materialization.metadata.get(name)
    return records[0].timestamp, int(value.value) if value is not None else 0


@dg.sensor(asset_selection=[tag_embeddings], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING)
def embed_new_tags(context: dg.SensorEvaluationContext):
    """Embeds tags as soon as a ``questions`` refresh reports tags no question carried before
    (read from the materialization's ``new_tags``; the DuckDB file is not opened)."""
    records = context.instance.fetch_materializations(
        questions.key, limit=1000, cursor=context.cursor, ascending=True)
    new_tags = max((int(r.asset_materialization.metadata["new_tags"].value)
                    for r in records.records if r.asset_materialization is not None
                    and "new_tags" in r.asset_materialization.metadata), default=0)
    if records.records:
        context.update_cursor(records.cursor)
    if not new_tags:
        return dg.SkipReason("no refresh of questions brought new tags")
    return dg.RunRequest(run_key=f"new-tags-{records.cursor}")


@dg.sensor(asset_selection=RETRAIN, minimum_interval_seconds=600,
           default_status=dg.DefaultSensorStatus.RUNNING)
def retrain_on_new_questions(context: dg.SensorEvaluationContext):
    """Rebuilds the tag tree and everything after it before the weekly cadence when at least
    ``SO_ASSETS_RETRAIN_AFTER_NEW_QUESTIONS`` questions arrived since the tree was built."""
    tree = context.instance.fetch_materializations(tag_tree.key, limit=1).records
    now = _latest_figure(context.instance, questions.key, "total_questions")
    if not tree or now is None:
        return dg.SkipReason("no tag tree or no questions yet")
    then = _latest_figure(context.instance, questions.key, "total_questions",
                          before=tree[0].timestamp)
    arrived = now[1] - (then[1] if then else 0)
    if arrived < RETRAIN_AFTER_NEW_QUESTIONS:
        return dg.SkipReason(f"{arrived} new questions since the tag tree, "
                             f"{RETRAIN_AFTER_NEW_QUESTIONS} needed")
    return dg.RunRequest(run_key=f"retrain-after-{tree[0].storage_id}")
