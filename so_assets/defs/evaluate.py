"""``so-assets evaluate`` on one file: the plan, then the code location's assets materialized in
this process into the file's own folder (see :mod:`so_assets.defs.in_process` for why)."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from so_assets.defs.in_process import materialize_in_process, resource_config
from so_assets.defs.partitions import FIRST_DAY
from so_assets.embedding.config import EncoderConfig
from so_assets.models.registry import MODELS
from so_assets.stackexchange.sources import make_source
from so_assets.steps.evaluate import (
    EvaluationRun,
    chosen_models,
    models_on_disk_mb,
    plan,
    prepare_output,
    write_summary,
)


def evaluate_dataset(kind: str, site: str, options: Mapping[str, str], out_dir: Path, *,
                     dataset: str = "", encoder_config: EncoderConfig | None = None,
                     min_tag_count: int | None = None, n_clusters: int | None = None,
                     model_names: Collection[str] | None = None,
                     run_config: Mapping[str, Any] | None = None,
                     definitions: dg.Definitions | None = None, force: bool = False,
                     log: logging.Logger | None = None) -> EvaluationRun:
    """Import, embed, build the tree and labels, train every model (or those ``model_names``
    names), check and report, as the pipeline does; ``run_config`` (Dagster's format) sets
    any asset's config. One model's failure costs that model only. ``out_dir`` must be new or
    empty (``force``: an earlier evaluate output there is cleared first)."""
    from so_assets.definitions import defs as code_location

    log = log or logging.getLogger(__name__)
    source = make_source(kind, site, options)
    tag_specs, score_specs = chosen_models(model_names)
    check_model_parameters(run_config or {})
    prepare_output(out_dir, force)
    chosen = {s.asset_name for s in (*tag_specs, *score_specs)}
    settings = plan(source.summarize(), min_tag_count, n_clusters)
    if settings.first_day < FIRST_DAY:
        raise ValueError(f"the file's questions start on {settings.first_day}, before the "
                         f"first partition {FIRST_DAY}: set SO_ASSETS_FIRST_DAY earlier")
    log.info("evaluating %s: %s", dataset or source.location(), settings)
    for note in settings.adjusted:
        log.warning(note)
    started = time.monotonic()
    outcomes = materialize_in_process(
        definitions or code_location, first_day=settings.first_day, last_day=settings.last_day,
        resources=resource_config(out_dir, kind, site, options,
                                  encoder_config or EncoderConfig()),
        sized={"min_tag_count": settings.min_tag_count, "n_clusters": settings.n_clusters},
        extra_config=run_config or {},
        excluded={s.asset_name for s in MODELS} - chosen)
    run = EvaluationRun(dataset or source.location(), source.kind, settings,
                        checks=outcomes.checks, failed=outcomes.failed,
                        notes=list(settings.adjusted), steps=outcomes.steps)
    for name, metadata in outcomes.materialized.items():
        if isinstance(metadata.get("summary"), str):
            run.summaries[name] = metadata["summary"]
        if isinstance(metadata.get("path"), str) and "report" in metadata:
            run.report_paths[name] = metadata["path"]
    graph = (definitions or code_location).resolve_asset_graph()
    run.not_built = sorted(k.to_user_string() for k in graph.get_all_asset_keys()
                           if k.to_user_string() not in outcomes.materialized
                           and k.to_user_string() not in outcomes.failed
                           and k.to_user_string() not in {s.asset_name for s in MODELS} - chosen)
    if not source.has_scores:
        run.notes.append(f"{source.kind} files carry no question scores: the score models "
                         "were not trained (the score report says so).")
    for name, error in outcomes.failed.items():
        log.error("%s failed: %s", name, error)
    run.wall_seconds = time.monotonic() - started
    run.models_mb = models_on_disk_mb(out_dir / "models")
    write_summary(run, out_dir)
    return run


def check_model_parameters(run_config: Mapping[str, Any]) -> None:
    """Refuse, before anything runs, model parameters in ``run_config`` that their family's
    parameter class refuses (unknown keys, wrong types, values out of range)."""
    ops = run_config.get("ops") or {}
    for spec in MODELS:
        config = (ops.get(spec.asset_name) or {}).get("config")
        if config is not None:
            spec.with_params(config)
