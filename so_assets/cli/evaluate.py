"""``so-assets evaluate``: the whole chain on one file, into its own folder, and its summary."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from so_assets.stackexchange.errors import SourceError


def _run_config(paths: Sequence[Path]) -> dict:
    """The run config of ``--config`` files, merged in order (later files win)."""
    import yaml

    merged: dict = {}
    for path in paths:
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"--config {path}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"--config {path}: run config must be a mapping (ops:, resources:)")
        merged = _deep_merge(merged, loaded)
    return merged


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (_deep_merge(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def run(args: argparse.Namespace) -> int:
    """Run the chain; 1 when a step failed, else 0 (as a Dagster run: a failed quality check
    is reported, in the output and the summary's ``checks``, without failing the run)."""
    from so_assets.defs.evaluate import evaluate_dataset
    from so_assets.stackexchange.sources import make_source, sniff_source

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the ephemeral instance's setup
    try:
        kind = sniff_source(args.dataset).kind if args.format == "auto" else args.format
        site = args.site or args.dataset.name.split(".")[0]
        options = {k: str(v) for k, v in {
            "path": args.dataset, "tags_path": args.tags_path,
            "answers_path": args.answers_path, "users_path": args.users_path}.items() if v}
        make_source(kind, site, options)
        run = evaluate_dataset(kind, site, options, args.out, dataset=str(args.dataset),
                               min_tag_count=args.min_tag_count, n_clusters=args.clusters,
                               model_names=args.models.split(",") if args.models else None,
                               run_config=_run_config(args.config), force=args.force)
    except (ValueError, OSError, SourceError) as exc:
        raise SystemExit(f"so-assets evaluate: {exc}") from None
    for text in run.summaries.values():
        print("\n" + text)
    for note in run.notes:
        print(f"\n{note}")
    for name, error in run.failed.items():
        print(f"\nFAILED {name}: {error}")
    failed_checks = [name for name, passed in run.checks.items() if not passed]
    if failed_checks:
        print(f"\nchecks failed: {', '.join(failed_checks)}")
    summary = run.summary()
    print(f"\nwall time {run.wall_seconds:.0f}s, process peak RSS "
          f"{summary['process_peak_rss_mb']:.0f} MB, models on disk {run.models_mb:.0f} MB; "
          f"reports: {', '.join(run.report_paths.values())}")
    return 1 if run.failed else 0
