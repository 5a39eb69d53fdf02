"""The Dagster code location: every asset, check, job, schedule, sensor and resource of the
``defs/`` package, gathered by ``load_from_defs_folder`` (so a new module there is in the code
location without a line here), each asset owned by its group's team."""

from pathlib import Path

import dagster as dg

OWNERS = {
    "ingestion": ["team:data-engineering"],
    "exploration": ["team:data-science"],
    "embeddings": ["team:ml"],
    "tag_tree": ["team:ml"],
    "models": ["team:ml"],
    "serving": ["team:ml"],
}
"""Who answers for each group's assets (shown on every asset in the UI)."""


def _owned(loaded: dg.Definitions) -> dg.Definitions:
    """``loaded`` with every asset owned by its group's team (an asset imported by several
    modules is gathered once per module: each is mapped once)."""
    unique = list({id(asset): asset for asset in loaded.assets or []}.values())
    return dg.Definitions(
        assets=dg.map_asset_specs(
            lambda spec: spec.replace_attributes(owners=OWNERS[spec.group_name]), unique),
        asset_checks=loaded.asset_checks, jobs=loaded.jobs, schedules=loaded.schedules,
        sensors=loaded.sensors, resources=loaded.resources, executor=loaded.executor)


defs = _owned(dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent))
