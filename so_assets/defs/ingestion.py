"""raw_questions and questions, with their checks."""

from datetime import date, timedelta

import dagster as dg

from so_assets.defs.conditions import per_day
from so_assets.defs.metadata import add_partition_metadata, check_result, result_metadata
from so_assets.defs.partitions import daily_partitions
from so_assets.defs.placement import WRITES_DUCKDB
from so_assets.defs.resources import SourceResource, StorageResource
from so_assets.steps import ingestion as steps


@dg.asset(partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
          **WRITES_DUCKDB, group_name="ingestion", kinds={"duckdb"},
          # the schedule loads a day every day: two days without a load is a failure
          freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(days=2),
                                                          warn_window=timedelta(hours=30)))
def raw_questions(context: dg.AssetExecutionContext, storage: StorageResource,
                  source: SourceResource) -> dg.MaterializeResult:
    """Questions as the source gave them, one partition per UTC creation day, each day
    replaced in one transaction once the source delivered all of it."""
    days = [date.fromisoformat(key) for key in context.partition_keys]
    result = steps.load_raw_questions(storage.stores(), source.source(), days, context.log)
    add_partition_metadata(context, {"dagster/row_count": result.stored,
                                     "reported_count": result.reported})
    return dg.MaterializeResult(metadata={
        **result_metadata(result),
        "database": dg.MetadataValue.path(str(storage.stores().questions.path.absolute()))})


@dg.asset(deps=[raw_questions], partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), **WRITES_DUCKDB,
          group_name="ingestion", kinds={"duckdb"}, automation_condition=per_day())
def questions(context: dg.AssetExecutionContext, storage: StorageResource
              ) -> dg.MaterializeResult:
    """One row per question id: HTML turned into text (code between [code] markers), tags as a
    list. Each materialized day is rebuilt from its raw partition, as soon as that changes."""
    days = [date.fromisoformat(key) for key in context.partition_keys]
    stats = steps.build_questions(storage.stores(), days, context.log)
    add_partition_metadata(context, {"dagster/row_count": stats.rows_per_day})
    return dg.MaterializeResult(metadata=result_metadata(stats))


@dg.asset_check(asset=raw_questions, blocking=True)
def raw_row_counts_match_source(storage: StorageResource) -> dg.AssetCheckResult:
    """Every loaded day holds exactly as many rows as its source reported."""
    return check_result(steps.raw_counts_match_source(storage.stores()))


@dg.asset_check(asset=questions, blocking=True)
def unique_question_ids(storage: StorageResource) -> dg.AssetCheckResult:
    """No question id appears twice in ``questions``."""
    return check_result(steps.unique_question_ids(storage.stores()))


@dg.asset_check(asset=questions)
def no_empty_titles(storage: StorageResource) -> dg.AssetCheckResult:
    """Every question has a non-blank title."""
    return check_result(steps.no_empty_titles(storage.stores()))


@dg.asset_check(asset=raw_questions, description=steps.no_unexpected_empty_days.__doc__)
def no_unexpected_empty_days(storage: StorageResource) -> dg.AssetCheckResult:
    return check_result(steps.no_unexpected_empty_days(storage.stores()),
                        severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=raw_questions, description=steps.no_skipped_items.__doc__)
def no_skipped_items(storage: StorageResource) -> dg.AssetCheckResult:
    return check_result(steps.no_skipped_items(storage.stores()),
                        severity=dg.AssetCheckSeverity.WARN)
