"""raw_questions and questions, with their checks."""

from datetime import date

import dagster as dg

from so_assets.defs.config import config_class, params_of
from so_assets.defs.metadata import check_result, result_metadata
from so_assets.defs.partitions import daily_partitions
from so_assets.defs.resources import SourceResource, StorageResource
from so_assets.steps import ingestion as steps

QuestionsConfig = config_class(steps.QuestionsParams, "QuestionsConfig")


@dg.asset(partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
          pool="duckdb", group_name="ingestion", kinds={"duckdb"})
def raw_questions(context: dg.AssetExecutionContext, storage: StorageResource,
                  source: SourceResource) -> dg.MaterializeResult:
    """Questions as the source gave them, one partition per UTC creation day, each day
    replaced in one transaction once the source delivered all of it."""
    days = [date.fromisoformat(key) for key in context.partition_keys]
    result = steps.load_raw_questions(storage.stores(), source.source(), days, context.log)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(result.stored.values()), **result_metadata(result),
        "database": dg.MetadataValue.path(str(storage.stores().questions.path))})


@dg.asset(deps=[raw_questions], pool="duckdb", group_name="ingestion", kinds={"duckdb"})
def questions(context: dg.AssetExecutionContext, config: QuestionsConfig,
              storage: StorageResource) -> dg.MaterializeResult:
    """One row per question id: HTML turned into text (code between [code] markers), tags as a
    list. Incremental: only days whose raw partition was reloaded are rebuilt."""
    stats = steps.build_questions(storage.stores(), params_of(config, steps.QuestionsParams),
                                  context.log)
    return dg.MaterializeResult(metadata={"dagster/row_count": stats.total_questions,
                                          **result_metadata(stats)})


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
