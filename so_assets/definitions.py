"""The Dagster code location: every asset, check, job, schedule and resource."""

import dagster as dg

from so_assets.defs.automation import (
    daily_question_refresh,
    ingest_questions_job,
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
    questions,
    raw_questions,
    raw_row_counts_match_source,
    unique_question_ids,
)
from so_assets.defs.models import (
    MODEL_ASSETS,
    MODEL_CHECKS,
    dataset_splits,
    score_evaluation_report,
    tag_evaluation_report,
)
from so_assets.defs.resources import default_resources
from so_assets.defs.tagtree import tag_clustering_report, tag_labels, tag_tree

defs = dg.Definitions(
    assets=[
        raw_questions,
        questions,
        eda_report,
        question_embedding_partitions,
        tag_embeddings,
        embedding_analysis,
        tag_tree,
        tag_labels,
        tag_clustering_report,
        dataset_splits,
        *(asset for asset, _ in MODEL_ASSETS),
        tag_evaluation_report,
        score_evaluation_report,
    ],
    asset_checks=[
        raw_row_counts_match_source,
        unique_question_ids,
        no_empty_titles,
        *MODEL_CHECKS,
    ],
    jobs=[ingest_questions_job, stackoverflow_pipeline],
    schedules=[daily_question_refresh],
    resources=default_resources(),
)
