"""eda_report: the seed's exploration of the questions table, as plots."""

import dagster as dg

from so_assets.defs.conditions import after_upstream
from so_assets.defs.ingestion import questions
from so_assets.defs.metadata import result_metadata
from so_assets.defs.placement import WRITES_DUCKDB
from so_assets.defs.resources import StorageResource
from so_assets.steps import exploration as steps


@dg.asset(deps=[questions], **WRITES_DUCKDB, group_name="exploration",
          kinds={"duckdb", "matplotlib"}, automation_condition=after_upstream())
def eda_report(storage: StorageResource) -> dg.MaterializeResult:
    """Tag frequencies, tags per question, score distribution, answer-metric sparsity and the
    log time to the accepted answer with a Gaussian mixture; saved under data/reports/eda/."""
    return dg.MaterializeResult(metadata=result_metadata(steps.eda_report(storage.stores())))
