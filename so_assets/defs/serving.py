"""The models at work: production_models (promoted by rule, gated by a blocking check), the
daily tag and score predictions, live quality with its drift checks, and the sensors that
re-predict after a promotion and request a retrain when drift is sustained."""

from datetime import date, timedelta

import dagster as dg

from so_assets.defs.conditions import (
    RETRAIN,
    RUNS_AFTER_FAILED_UPSTREAM,
    after_upstream,
    per_day,
)
from so_assets.defs.config import params_config, params_of
from so_assets.defs.ingestion import questions
from so_assets.defs.metadata import add_partition_metadata, result_metadata
from so_assets.defs.models import MODEL_ASSETS, score_evaluation_report, tag_evaluation_report
from so_assets.defs.partitions import daily_partitions
from so_assets.defs.placement import WRITES_DUCKDB
from so_assets.defs.resources import EncoderResource, StorageResource
from so_assets.defs.splits import dataset_splits
from so_assets.steps import live_quality as live
from so_assets.steps import predictions, production
from so_assets.storage.embedding_kinds import TOKENS, VECTORS

RETRAIN_REASON_TAG = "so_assets/retrain_reason"
REPREDICT_DAYS = 7
"""On a promotion the newest days are predicted again by the new model: the days of the rolling
live-quality window, so live quality compares like with like. Older days keep the predictions
of the model that served then (each row names its version): re-predicting the whole history
would cost a pass over it for questions nobody is tagging any more."""
SUSTAINED_DAYS = 3
"""Consecutive failing days of live quality or input drift that request a retrain."""


@dg.asset(deps=[*MODEL_ASSETS, tag_evaluation_report, score_evaluation_report],
          **WRITES_DUCKDB, group_name="serving", kinds={"duckdb"},
          automation_condition=after_upstream(), tags={RUNS_AFTER_FAILED_UPSTREAM: "true"},
          check_specs=[dg.AssetCheckSpec("serving_models_beat_their_baselines",
                                         asset="production_models", blocking=True,
                                         description="The models that would serve beat their "
                                                     "tasks' baselines on validation; when "
                                                     "not, nothing new is recorded and the "
                                                     "predictions downstream wait.")])
def production_models(context: dg.AssetExecutionContext, storage: StorageResource,
                      encoder: EncoderResource):
    """The tag and score models that serve: the best on validation among those beating their
    baseline, replacing the champion only when better by a stated margin (see
    models/publication/production.py); the decision, its reason and the history."""
    result = production.production_models(storage.stores(encoder), context.log)
    yield dg.MaterializeResult(metadata=result_metadata(result))
    yield dg.AssetCheckResult(check_name="serving_models_beat_their_baselines",
                              passed=result.serving_beats_baseline,
                              metadata={"tag": result.tag_reason, "score": result.score_reason})


def _per_day_of_data() -> dg.AutomationCondition:
    """A day's predictions as soon as that day's inputs change; a promotion is not a change
    of every day's inputs (the sensor below re-predicts the newest days only)."""
    return per_day().replace(
        "any_deps_updated",
        dg.AutomationCondition.any_deps_updated().ignore(dg.AssetSelection.assets(
            "production_models"))).with_label("per_day_of_data")


ScorePredictionConfig = params_config(predictions.ScorePredictionParams(),
                                      "ScorePredictionConfig")


@dg.asset(deps=[questions, VECTORS, TOKENS, production_models], partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), **WRITES_DUCKDB,
          group_name="serving", kinds={"duckdb"}, automation_condition=_per_day_of_data())
def tag_predictions(context: dg.AssetExecutionContext, storage: StorageResource,
                    encoder: EncoderResource) -> dg.MaterializeResult:
    """Per day: the production tag model's top kept tags and clusters of every question, with
    scores, above-threshold flags and the version that predicted them."""
    days = [date.fromisoformat(key) for key in context.partition_keys]
    result = predictions.tag_predictions(storage.stores(encoder), days, context.log)
    add_partition_metadata(context, {"dagster/row_count": result.per_day})
    return dg.MaterializeResult(metadata=result_metadata(result))


@dg.asset(deps=[questions, VECTORS, production_models], partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), **WRITES_DUCKDB,
          group_name="serving", kinds={"duckdb"}, automation_condition=_per_day_of_data())
def score_predictions(context: dg.AssetExecutionContext, config: ScorePredictionConfig,
                      storage: StorageResource, encoder: EncoderResource
                      ) -> dg.MaterializeResult:
    """Per day: the production score model's score of every question at the configured
    horizon, with its 80 % interval (calibrated on validation) when the model gives one.
    Nothing to do before a score model serves (a source without scores)."""
    from so_assets.models.publication.production import read_production

    if "score" not in read_production(storage.stores().models_dir):
        context.log.warning("no score model serves (the source gives no scores): no score "
                            "predictions")
        return dg.MaterializeResult(metadata={"predicted": False})
    days = [date.fromisoformat(key) for key in context.partition_keys]
    result = predictions.score_predictions(
        storage.stores(encoder), days, params_of(config, predictions.ScorePredictionParams),
        context.log)
    add_partition_metadata(context, {"dagster/row_count": result.per_day})
    return dg.MaterializeResult(metadata=result_metadata(result))


LIVE_CHECKS = {
    "live_quality_holds": "Rolling 7-day live micro-F1 within 5 points of the model's test "
                          "figure (warn), 10 points (fail).",
    "no_input_drift": "The day's question vectors cannot be told from training's: domain "
                      "classifier ROC AUC below 0.70 (warn at 0.70, fail at 0.80).",
    "few_unseen_tags": "Under 15 % of the day's distinct tags unseen in training (warn), "
                       "30 % (fail).",
}


@dg.asset(deps=[tag_predictions, dataset_splits], partitions_def=daily_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(), **WRITES_DUCKDB,
          group_name="serving", kinds={"duckdb", "scikitlearn"},
          automation_condition=_per_day_of_data(),
          check_specs=[dg.AssetCheckSpec(name, asset="live_tag_quality", description=doc)
                       for name, doc in LIVE_CHECKS.items()])
def live_tag_quality(context: dg.AssetExecutionContext, storage: StorageResource,
                     encoder: EncoderResource):
    """Per day, prequentially: the production predictions of the questions created after the
    model's training cutoff against their askers' tags (micro-F1, P@1, R@5 at kept-tag and
    cluster level, the share of tags it cannot predict), score error where comparable, and
    input drift. Figures are numeric metadata: the Plots tab charts them over the days."""
    days = [date.fromisoformat(key) for key in context.partition_keys]
    result = live.live_tag_quality(storage.stores(encoder), days, context.log)
    for day in result.days:
        figures = {k: v for k, v in day.figures.items() if v == v}  # NaN left out
        context.add_asset_metadata({**figures, **{f"{k}_status": v
                                                  for k, v in day.statuses.items()}},
                                   partition_key=day.day.isoformat())
    yield dg.MaterializeResult(metadata={"model": result.model, "version": result.version,
                                         "train_cutoff": result.train_cutoff})
    newest = max(result.days, key=lambda d: d.day)
    for name in LIVE_CHECKS:
        outcome = result.outcome(newest.day, name)
        status = outcome.details["status"]
        yield dg.AssetCheckResult(
            check_name=name, passed=status != "fail",
            severity=dg.AssetCheckSeverity.WARN if status == "warn" else
            dg.AssetCheckSeverity.ERROR,
            metadata={"day": newest.day.isoformat(), **{
                k: v for k, v in outcome.details.items() if isinstance(v, str | float | int)}})


@dg.asset(deps=[live_tag_quality], **WRITES_DUCKDB, group_name="serving",
          kinds={"matplotlib", "duckdb"}, automation_condition=after_upstream())
def live_quality_report(storage: StorageResource) -> dg.MaterializeResult:
    """Live figures day by day and rolling over 7 days beside the model's test figures, with
    drift and unseen tags, as tables and plots under data/reports/live_quality/."""
    return dg.MaterializeResult(metadata=result_metadata(live.live_quality_report(
        storage.stores())))


@dg.sensor(asset_selection=[tag_predictions, score_predictions, live_tag_quality],
           minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def repredict_after_promotion(context: dg.SensorEvaluationContext):
    """After a promotion (a new serving tag version), predict the newest days again with it
    (see ``REPREDICT_DAYS``); a decision that kept the champion requests nothing."""
    latest = context.instance.get_latest_materialization_event(production_models.key)
    value = (latest.asset_materialization.metadata.get("tag_version")
             if latest is not None and latest.asset_materialization is not None else None)
    version = value.value if value is not None else ""
    if not version or version == context.cursor:
        return dg.SkipReason("no new serving version")
    context.update_cursor(version)
    newest = context.instance.get_latest_materialization_event(questions.key)
    day = newest.asset_materialization.partition if newest and \
        newest.asset_materialization else None
    if not day:
        return dg.SkipReason("no day of questions yet")
    end = date.fromisoformat(day)
    start = max(end - timedelta(days=REPREDICT_DAYS - 1), date.fromisoformat(
        daily_partitions.get_first_partition_key()))
    return dg.RunRequest(run_key=f"repredict-{version}", tags={
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
        "so_assets/repredict_for": version})


@dg.sensor(asset_selection=RETRAIN, minimum_interval_seconds=300,
           default_status=dg.DefaultSensorStatus.RUNNING)
def retrain_on_drift(context: dg.SensorEvaluationContext):
    """When live quality or input drift failed on the newest ``SUSTAINED_DAYS`` measured days,
    request a retrain; the run's tags say why."""
    records = context.instance.fetch_materializations(live_tag_quality.key, limit=200).records
    latest: dict[str, dict] = {}
    for record in records:  # newest first: keep each day's latest figures
        event = record.asset_materialization
        if event is None or event.partition is None or event.partition in latest:
            continue
        latest[event.partition] = {k: v.value for k, v in event.metadata.items()}
    days = sorted(latest)[-SUSTAINED_DAYS:]
    if len(days) < SUSTAINED_DAYS:
        return dg.SkipReason(f"{len(days)} day(s) measured, {SUSTAINED_DAYS} needed")
    failing = [check for check in ("live_quality_holds", "no_input_drift")
               if all(latest[d].get(f"{check}_status") == "fail" for d in days)]
    if not failing:
        return dg.SkipReason(f"no check failed on each of {', '.join(days)}")
    reason = f"{' and '.join(failing)} failed on {days[0]}..{days[-1]}"
    return dg.RunRequest(run_key=f"retrain-drift-{days[-1]}",
                         tags={RETRAIN_REASON_TAG: reason})
