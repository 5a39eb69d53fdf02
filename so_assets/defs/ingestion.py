"""raw_questions and questions, with their checks."""


from datetime import date

import dagster as dg

from so_assets.defs.partitions import daily_partitions
from so_assets.defs.resources import QuestionSourceResource, StorageResource
from so_assets.stackexchange.sources import iter_day_batches
from so_assets.storage.questions_refresh import refresh_questions


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
    group_name="ingestion",
    kinds={"duckdb"},
)
def raw_questions(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    source: QuestionSourceResource,
) -> dg.MaterializeResult:
    """Questions as the source gave them, one partition per UTC creation day.

    A day is written (in one transaction) only once the source has delivered all of it, so a
    failure leaves its previous rows untouched and re-running replaces it exactly. API days are
    written one by one as they arrive; a file, read whole first, is written in one transaction.
    """
    spec = source.spec()
    days = [date.fromisoformat(key) for key in context.partition_keys]
    store = storage.question_store()
    stored: dict[date, int] = {}
    reported: dict[date, int] = {}
    quota = None
    batches = iter_day_batches(spec, days, context.log)
    groups = ([b] for b in batches) if spec.kind in ("sample", "api") else [list(batches)]
    for group in groups:
        stored.update(store.replace_partitions(group, source=spec.kind, site=spec.site))
        for batch in group:
            reported[batch.day] = batch.reported_count
            quota = batch.quota_remaining
    table = "\n".join(f"| {d} | {reported[d]} | {stored[d]} |" for d in sorted(stored)[-31:])
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(stored.values()),
        "source": spec.kind,
        "site": spec.site,
        "days": len(days),
        "quota_remaining": quota,
        "rows_per_day": dg.MetadataValue.md(
            "| day | reported | stored |\n|---|---|---|\n" + table),
        "database": dg.MetadataValue.path(str(storage.duckdb_path)),
    })


class QuestionsConfig(dg.Config):
    full_rebuild: bool = False
    """Rebuild every day, not only the days whose raw partition changed."""


@dg.asset(deps=[raw_questions], pool="duckdb", group_name="ingestion", kinds={"duckdb"})
def questions(context: dg.AssetExecutionContext, config: QuestionsConfig,
              storage: StorageResource) -> dg.MaterializeResult:
    """One row per question id: HTML turned into text (code between [code] markers), tags as a
    list. Incremental: only days whose raw partition was reloaded are rebuilt."""
    stats = refresh_questions(storage.question_store(), full=config.full_rebuild,
                              log=context.log)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": stats.total_questions,
        "days_rebuilt": stats.days_rebuilt,
        "days_removed": stats.days_removed,
        "raw_rows_read": stats.raw_rows,
        "duplicates_dropped": stats.duplicates_dropped,
        "seconds": round(stats.seconds, 2),
    })


@dg.asset_check(asset=raw_questions, blocking=True)
def raw_row_counts_match_source(storage: StorageResource) -> dg.AssetCheckResult:
    """Every loaded day holds exactly as many rows as its source reported."""
    store = storage.question_store()
    loads = store.partition_loads()
    actual = store.raw_counts() if loads else {}
    wrong = [(load.creation_day, load.reported_count, actual.get(load.creation_day, 0))
             for load in loads if load.reported_count != actual.get(load.creation_day, 0)]
    return dg.AssetCheckResult(
        passed=not wrong,
        metadata={"days_checked": len(loads),
                  "mismatches": dg.MetadataValue.json(
                      [{"day": str(d), "reported": r, "stored": s} for d, r, s in wrong[:50]])},
    )


@dg.asset_check(asset=questions, blocking=True)
def unique_question_ids(storage: StorageResource) -> dg.AssetCheckResult:
    """No question id appears twice in ``questions``."""
    with storage.question_store().connect(read_only=True) as con:
        dupes = con.execute("SELECT question_id, count(*) FROM questions GROUP BY 1 "
                            "HAVING count(*) > 1 LIMIT 20").fetchall()
    return dg.AssetCheckResult(passed=not dupes, metadata={
        "duplicated_ids": dg.MetadataValue.json([int(q) for q, _ in dupes])})


@dg.asset_check(asset=questions)
def no_empty_titles(storage: StorageResource) -> dg.AssetCheckResult:
    """Every question has a non-blank title."""
    with storage.question_store().connect(read_only=True) as con:
        empty = [r[0] for r in con.execute(
            "SELECT question_id FROM questions WHERE trim(title) = '' LIMIT 20").fetchall()]
    return dg.AssetCheckResult(passed=not empty, metadata={
        "question_ids": dg.MetadataValue.json([int(q) for q in empty])})
