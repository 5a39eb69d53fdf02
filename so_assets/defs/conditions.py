"""When each asset refreshes by itself: the declarative automation conditions.

A reloaded day flows on at once (its ``questions`` rows, then its embedding partitions); what
is costly and reads every day (the tag tree, labels, splits and models) is rebuilt on a cadence,
``SO_ASSETS_RETRAIN_CRON`` (weekly by default), or by the ``retrain_on_new_questions`` sensor
when enough new questions have arrived; reports follow whatever they read.
"""

import os

import dagster as dg

from so_assets.storage.embedding_kinds import TOKENS, VECTORS

RETRAIN_CRON = os.environ.get("SO_ASSETS_RETRAIN_CRON", "0 3 * * 0")  # Sundays, 03:00 UTC
"""When the tag tree, labels, splits and models are rebuilt from what has arrived."""

RETRAIN_AFTER_NEW_QUESTIONS = int(os.environ.get("SO_ASSETS_RETRAIN_AFTER_NEW_QUESTIONS",
                                                 "20000"))
"""New questions since the last tag tree that trigger a rebuild before the cadence does."""


RUNS_AFTER_FAILED_UPSTREAM = "so_assets/runs_after_failed_upstream"
"""Tag of assets that read whatever their upstream published (the reports, which compare every
published model): after an upstream step failed, ``so-assets evaluate`` runs them over the rest
instead of skipping them."""


def per_day() -> dg.AutomationCondition:
    """A day's partition as soon as the same day upstream changes, for every day (Dagster's
    ``eager`` looks only at the latest day, but the schedule re-pulls yesterday too and a
    backfill reloads history)."""
    return dg.AutomationCondition.eager().without(
        dg.AutomationCondition.in_latest_time_window()).with_label("per_day")


RETRAIN = (dg.AssetSelection.assets("dataset_splits").downstream()
           - dg.AssetSelection.assets("tag_predictions", "score_predictions",
                                      "live_tag_quality", "live_quality_report"))
"""What a retrain rebuilds: the splits, the tree and labels, every model, the reports and the
production decision (not the daily predictions and live quality, which follow by automation)."""

DAILY_ASSETS = dg.AssetSelection.assets("raw_questions", "questions", VECTORS, TOKENS,
                                       "tag_predictions", "score_predictions",
                                       "live_tag_quality")
"""Daily partitions: most days of the history are never loaded, so a reader of every day must
not wait for them as if they were missing inputs."""


def _nothing_missing_or_in_progress() -> dg.AutomationCondition:
    return (~dg.AutomationCondition.any_deps_missing().ignore(DAILY_ASSETS)
            & ~dg.AutomationCondition.any_deps_in_progress()
            & ~dg.AutomationCondition.in_progress())


def after_upstream() -> dg.AutomationCondition:
    """As soon as anything it reads changed, once none of it is still being built."""
    return (dg.AutomationCondition.any_deps_updated().since_last_handled()
            & _nothing_missing_or_in_progress()).with_label("after_upstream")


def on_cadence(cron: str = RETRAIN_CRON) -> dg.AutomationCondition:
    """Once per tick of ``cron``, when nothing upstream is missing or still being built.
    Assets sharing this condition are requested at the same tick, so they run in one run in
    dependency order."""
    return (dg.AutomationCondition.cron_tick_passed(cron, "UTC").since_last_handled()
            & _nothing_missing_or_in_progress()).with_label(f"on_cadence({cron})")
