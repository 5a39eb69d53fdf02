"""The shape of the code location as plain data, for the snapshot test.

After an intended change to the graph, rewrite the snapshot:
    .venv/bin/python -m so_assets_tests.defs.snapshot > so_assets_tests/defs/definitions.json
"""

from __future__ import annotations

import json

import dagster as dg


def describe(defs: dg.Definitions) -> dict:
    """Assets (deps, partitions, group, owners, pool, kinds, automation), checks, jobs with
    their executors, schedules and sensors."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": type(partitions).__name__ if partitions else None,
            "group": node.group_name,
            "pools": sorted(node.pools or []),
            "kinds": sorted(node.kinds),
            "checks": sorted(c.name for c in node.check_keys),
            "owners": list(node.owners),
            "automation": (node.automation_condition.get_label()
                           if node.automation_condition else None),
        }
    return {
        "assets": assets,
        "jobs": {job.name: job.executor_def.name for job in defs.resolve_all_job_defs()
                 if not job.name.startswith("__")},
        "schedules": {s.name: {"cron": s.cron_schedule, "job": s.job_name}
                      for s in defs.get_repository_def().schedule_defs},
        "sensors": {s.name: s.default_status.value
                    for s in defs.get_repository_def().sensor_defs},
    }


def render(shape: dict) -> str:
    """One line per asset and schedule, so a diff names what moved."""
    lines = ["{", ' "assets": {']
    assets = [f'  "{k}": {json.dumps(v, sort_keys=True)}' for k, v in shape["assets"].items()]
    lines += [",\n".join(assets), " },", f' "jobs": {json.dumps(shape["jobs"], sort_keys=True)},',
              f' "schedules": {json.dumps(shape["schedules"], sort_keys=True)},',
              f' "sensors": {json.dumps(shape["sensors"], sort_keys=True)}', "}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from so_assets.definitions import defs

    print(render(describe(defs)), end="")
