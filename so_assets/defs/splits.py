"""dataset_splits: upstream of the tag tree, which counts and learns tags on training questions
only, and of every model."""

import dagster as dg

from so_assets.defs.conditions import on_cadence
from so_assets.defs.config import params_config, params_of
from so_assets.defs.ingestion import questions
from so_assets.defs.metadata import result_metadata
from so_assets.defs.placement import WRITES_DUCKDB
from so_assets.defs.resources import StorageResource
from so_assets.steps import models as steps

SplitConfig = params_config(steps.SplitParams(), "SplitConfig")


@dg.asset(deps=[questions], **WRITES_DUCKDB, group_name="models", kinds={"duckdb"},
          automation_condition=on_cadence())
def dataset_splits(config: SplitConfig, storage: StorageResource) -> dg.MaterializeResult:
    """Train / validation / test by md5 of each content group's smallest question id: stable as
    partitions arrive, and duplicates (same title and body) never straddle splits."""
    result = steps.assign_dataset_splits(storage.stores(), params_of(config, steps.SplitParams))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": result.train + result.validation + result.test,
        **result_metadata(result)})
