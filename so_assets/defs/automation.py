"""Jobs and the daily refresh schedule."""


from datetime import timedelta

import dagster as dg

from so_assets.defs.ingestion import questions, raw_questions

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

ingest_questions_job = dg.define_asset_job(
    "ingest_questions_job",
    selection=dg.AssetSelection.assets(raw_questions, questions),
    description="Pull the questions of the selected days and refresh the questions table.",
)

stackoverflow_pipeline = dg.define_asset_job(
    "stackoverflow_pipeline",
    selection=dg.AssetSelection.all(),
    description="Every asset: ingestion, exploration and, as they land, models and reports.",
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
