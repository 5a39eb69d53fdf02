"""``so-assets evaluate``: the code location's own assets materialized in this process.

Why this and not a second description of the pipeline: the definitions already say which asset
reads which, what each is configured with and which checks guard it. Running them in-process
(an ephemeral instance, the in-process executor, the file's days as one partition range)
means ``evaluate`` can never drift from what ``dagster dev`` runs: a new asset, report or check
is in ``evaluate`` the moment it is in the definitions, and this module names none of them.

What it adds: resources pointed at the file and the output folder, the plan's sizes as run
config of whichever assets take them, one model's failure costing that model only (assets
tagged :data:`RUNS_AFTER_FAILED_UPSTREAM`, such as the reports, run once more over what did
get built), and the outcome of every step and check for the command line's summary.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from so_assets.defs.automation import RANGE_END_TAG, RANGE_START_TAG
from so_assets.defs.conditions import RUNS_AFTER_FAILED_UPSTREAM


@dataclass
class StepOutcomes:
    """What one in-process materialization did."""

    materialized: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Asset name -> the metadata of its materialization."""
    failed: dict[str, str] = field(default_factory=dict)
    """Asset name -> the error that failed its step."""
    checks: dict[str, bool] = field(default_factory=dict)
    """``asset:check`` -> passed."""
    check_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Step key -> (start, end) as Unix times, for every step that ran to an end."""

    def merge(self, other: StepOutcomes) -> None:
        self.materialized |= other.materialized
        self.failed |= other.failed
        self.checks |= other.checks
        self.check_details |= other.check_details
        self.steps |= other.steps


def _step_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """When each step of the run started and ended (succeeded or failed), from its event log."""
    started: dict[str, float] = {}
    times: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.is_step_start:
            started[event.step_key] = entry.timestamp
        elif (event.is_step_success or event.is_step_failure) and event.step_key in started:
            times[event.step_key] = (started[event.step_key], entry.timestamp)
    return times


def _plain(value: Any) -> Any:
    """A metadata value's plain content (text, number, JSON)."""
    inner = getattr(value, "value", value)
    if isinstance(inner, dg.TableMetadataValue):
        return None
    return inner if isinstance(inner, str | int | float | bool | dict | list) else None


def _outcomes(result: dg.ExecuteInProcessResult, job: dg.JobDefinition) -> StepOutcomes:
    out = StepOutcomes()
    for event in result.get_asset_materialization_events():
        name = event.asset_key.to_user_string()
        out.materialized.setdefault(name, {}).update(
            {k: _plain(v) for k, v in event.materialization.metadata.items()})
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        out.checks[name] = evaluation.passed
        out.check_details[name] = {k: _plain(v) for k, v in evaluation.metadata.items()}
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        cause = error.cause or error
        text = cause.message.strip()
        message = (text if text.startswith(cause.cls_name) else f"{cause.cls_name}: {text}"
                   ).splitlines()[0]
        for name in _asset_names_of_step(job, event.step_key) or [event.step_key]:
            out.failed[name] = message
    return out


def _asset_names_of_step(job: dg.JobDefinition, step_key: str | None) -> list[str]:
    """The assets (and checks, as ``asset:check``) a step materializes."""
    if step_key is None:
        return []
    graph = job.asset_layer.asset_graph
    names = []
    for key in graph.get_all_asset_keys():
        if graph.assets_def_for_key(key).node_def.name == step_key:
            names.append(key.to_user_string())
    for check_key in graph.asset_check_keys:
        if graph.assets_def_for_key(check_key).node_def.name == step_key:
            names.append(f"{check_key.asset_key.to_user_string()}:{check_key.name}")
    return names


def materialize_in_process(definitions: dg.Definitions, *, first_day: str, last_day: str,
                           resources: Mapping[str, Mapping[str, Any]],
                           sized: Mapping[str, Any], extra_config: Mapping[str, Any],
                           excluded: set[str],
                           instance: dg.DagsterInstance | None = None) -> StepOutcomes:
    """Materialize every asset of ``definitions`` but ``excluded`` over the days
    ``first_day``..``last_day``. ``resources`` is each resource's config; ``sized`` sets these
    fields on every asset whose config has them; ``extra_config`` is run config of the user's
    (Dagster's own format, as ``dagster job execute -c``), applied last. ``instance``: where
    the runs are recorded (default: an ephemeral one)."""
    job = definitions.resolve_implicit_global_asset_job_def()
    graph = definitions.resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if k.to_user_string() not in excluded]
    ops: dict[str, Any] = {}
    for key in keys:
        node = graph.get(key)
        op_name = node.assets_def.node_def.name
        config_fields = _config_fields(node.assets_def)
        chosen = {k: v for k, v in sized.items() if k in config_fields}
        if chosen:
            ops.setdefault(op_name, {"config": {}})["config"].update(chosen)
    run_config = _merged({"ops": ops, "resources": {k: {"config": dict(v)}
                                                   for k, v in resources.items()},
                          "loggers": {"console": {"config": {"log_level": "INFO"}}}},
                         extra_config)
    tags = {RANGE_START_TAG: first_day, RANGE_END_TAG: last_day}
    outcomes = StepOutcomes()
    selection = keys
    with contextlib.nullcontext(instance) if instance else dg.DagsterInstance.ephemeral() \
            as instance:
        for _ in range(2):
            try:
                result = job.execute_in_process(
                    run_config=_for_selection(run_config, graph, selection), instance=instance,
                    tags=tags, asset_selection=selection, raise_on_error=False)
            except dg.DagsterInvalidConfigError as error:
                raise ValueError("run config refused: " + "; ".join(
                    e.message for e in error.errors)) from None
            outcomes.merge(_outcomes(result, job))
            outcomes.steps |= _step_times(instance, result.run_id)
            if not outcomes.failed:
                break
            selection = _after_failures(graph, keys, outcomes)
            if not selection:
                break
    return outcomes


def _after_failures(graph, keys: list[dg.AssetKey], outcomes: StepOutcomes
                    ) -> list[dg.AssetKey]:
    """The assets not built because something upstream failed that may run over the rest:
    those tagged :data:`RUNS_AFTER_FAILED_UPSTREAM` and what lies downstream of them."""
    unbuilt = {k for k in keys if k.to_user_string() not in outcomes.materialized
               and k.to_user_string() not in outcomes.failed}
    tolerant = {k for k in unbuilt if graph.get(k).tags.get(RUNS_AFTER_FAILED_UPSTREAM)}
    if not tolerant:
        return []
    downstream = {d for k in tolerant for d in graph.asset_dep_graph["downstream"].get(k, ())}
    return sorted(tolerant | (downstream & unbuilt), key=lambda k: k.to_user_string())


def _config_fields(assets_def: dg.AssetsDefinition) -> set[str]:
    schema = assets_def.node_def.config_schema
    config_type = schema.config_type if schema is not None else None
    return set(getattr(config_type, "fields", {}) or {})


def _for_selection(run_config: dict[str, Any], graph, selection: list[dg.AssetKey]
                   ) -> dict[str, Any]:
    """``run_config`` with only the ops of ``selection`` (Dagster refuses config of ops that
    are not in the run)."""
    ops = {graph.get(k).assets_def.node_def.name for k in selection}
    return {**run_config, "ops": {k: v for k, v in run_config.get("ops", {}).items()
                                  if k in ops}}


def _merged(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def resource_config(data_dir: Path, source_kind: str, site: str, options: Mapping[str, str],
                    encoder: Any) -> dict[str, dict[str, Any]]:
    """Config of the three resources: the output folder, the file's source, the encoder."""
    return {"storage": {"data_dir": str(data_dir)},
            "source": {"kind": source_kind, "site": site, "options": dict(options)},
            "encoder": dataclasses.asdict(encoder)}
