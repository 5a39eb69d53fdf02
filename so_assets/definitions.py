"""The Dagster code location: every asset, check, job, schedule and resource."""

import dagster as dg

from so_assets.defs.automation import (
    automation,
    daily_question_refresh,
    embed_new_tags,
    ingest_questions_job,
    retrain_on_new_questions,
    stackoverflow_pipeline,
)
from so_assets.defs.embeddings import (
    embedding_analysis,
    question_embedding_partitions,
    tag_embeddings,
)
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
from so_assets.defs.models import (
    MODEL_ASSETS,
    MODEL_CHECKS,
    score_evaluation_report,
    tag_evaluation_report,
)
from so_assets.defs.placement import heavy_step_executor
from so_assets.defs.resources import default_resources
from so_assets.defs.splits import dataset_splits
from so_assets.defs.tagtree import tag_clustering_report, tag_labels, tag_tree

OWNERS = {
    "ingestion": ["team:data-engineering"],
    "exploration": ["team:data-science"],
    "embeddings": ["team:ml"],
    "tag_tree": ["team:ml"],
    "models": ["team:ml"],
}
"""Who answers for each group's assets (shown on every asset in the UI)."""

ASSETS = [
    raw_questions,
    questions,
    eda_report,
    question_embedding_partitions,
    tag_embeddings,
    embedding_analysis,
    dataset_splits,
    tag_tree,
    tag_labels,
    tag_clustering_report,
    *(asset for asset, _ in MODEL_ASSETS),
    tag_evaluation_report,
    score_evaluation_report,
]

defs = dg.Definitions(
    assets=dg.map_asset_specs(
        lambda spec: spec.replace_attributes(owners=OWNERS[spec.group_name]), ASSETS),
    asset_checks=[
        raw_row_counts_match_source,
        no_unexpected_empty_days,
        no_skipped_items,
        unique_question_ids,
        no_empty_titles,
        *MODEL_CHECKS,
    ],
    jobs=[ingest_questions_job, stackoverflow_pipeline],
    schedules=[daily_question_refresh],
    sensors=[automation, embed_new_tags, retrain_on_new_questions],
    resources=default_resources(),
    executor=heavy_step_executor(),  # for automation runs and `dagster asset materialize`
)
