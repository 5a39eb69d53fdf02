"""The ``so-assets`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR
from so_assets.stackexchange.sources import SOURCES

FILE_FORMATS = tuple(k for k in SOURCES if k != "api")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``so-assets`` console script."""
    parser = argparse.ArgumentParser(prog="so-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser(
        "generate-sample",
        help="write a deterministic sample in the API's JSON shape (the bundled one by default)")
    sample.add_argument("--out", type=Path, default=DEFAULT_SAMPLE_DIR)
    sample.add_argument("--questions", type=int, default=1400)
    sample.add_argument("--days", type=int, default=21)
    sample.add_argument("--start-day", type=date.fromisoformat, default=date(2024, 3, 1))
    sample.add_argument("--seed", type=int, default=20240301)

    predict = commands.add_parser("predict", help="top clusters and tags for one question")
    predict.add_argument("--title", required=True)
    predict.add_argument("--body", default="", help="plain text or the post's HTML")
    predict.add_argument("--body-file", type=Path,
                         help="read the body from this file ('-': standard input)")
    predict.add_argument("--model", help="a trained tag model's name (default: best on "
                                         "validation)")
    predict.add_argument("--data-dir", type=Path, default=Path("data"))
    predict.add_argument("--top", type=int, default=5)
    predict.add_argument("--score-model", help="a trained score model's name (default: best "
                                               "on validation)")
    predict.add_argument("--tags", help="the question's own tags, space-separated (default: "
                                        "the tags the tag model predicts)")
    predict.add_argument("--reputation", type=float, help="the asker's reputation")
    predict.add_argument("--horizon-days", type=float, default=365.0,
                         help="predict the score the question has at this age (default 365)")

    evaluate = commands.add_parser(
        "evaluate", help="run the whole chain on one file, into its own folder, and report")
    evaluate.add_argument("--dataset", type=Path, required=True)
    evaluate.add_argument("--format", choices=("auto", *FILE_FORMATS), default="auto")
    evaluate.add_argument("--out", type=Path, required=True,
                          help="a new or empty folder for the run's data, models and reports")
    evaluate.add_argument("--force", action="store_true",
                          help="clear --out first when it holds an earlier evaluate output")
    evaluate.add_argument("--tags-path", type=Path, help="StackSample's Tags.csv")
    evaluate.add_argument("--answers-path", type=Path, help="BigQuery's posts_answers export")
    evaluate.add_argument("--users-path", type=Path, help="a data dump's Users.xml")
    evaluate.add_argument("--site", default=None, help="site name (default: the file's stem)")
    evaluate.add_argument("--min-tag-count", type=int)
    evaluate.add_argument("--clusters", type=int)
    evaluate.add_argument("--models", help="comma-separated tag and score model names to "
                          "train (default: every registered model)")
    evaluate.add_argument("-c", "--config", type=Path, action="append", default=[],
                          help="run config YAML, as `dagster job execute -c` takes it (e.g. a "
                               "model's parameters under ops: tag_model_mlp: config:); "
                               "repeatable, later files win")

    commands.add_parser(
        "recover-runs",
        help="fail the runs whose process was killed and free their pool slots (DAGSTER_HOME)")

    args = parser.parse_args(argv)
    if args.command == "generate-sample":
        from so_assets.stackexchange.sample_generator import generate_sample

        manifest = generate_sample(args.out, n_questions=args.questions, n_days=args.days,
                                   start_day=args.start_day, seed=args.seed)
        print(json.dumps(manifest, indent=2))
    elif args.command == "predict":
        try:
            _predict(args)
        except (ValueError, FileNotFoundError) as exc:
            raise SystemExit(f"so-assets predict: {exc}") from None
    elif args.command == "evaluate":
        return _evaluate(args)
    elif args.command == "recover-runs":
        _recover_runs()
    return 0


def _recover_runs() -> None:
    from so_assets.defs.run_health import fail_dead_runs_of_this_instance

    failed = fail_dead_runs_of_this_instance()
    print(f"{len(failed)} run(s) whose process was gone marked failed, their slots freed"
          + "".join(f"\n  {run_id}" for run_id in failed))


def clean_text(text: str, what: str) -> str:
    """Text as UTF-8 can carry it: bytes the shell could not decode become U+FFFD (with a
    warning) instead of crashing the tokenizer."""
    cleaned = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if cleaned != text or "\ufffd" in cleaned:
        print(f"warning: the {what} is not valid UTF-8; undecodable bytes were replaced",
              file=sys.stderr)
    return cleaned


def _read_body(args: argparse.Namespace) -> str:
    if args.body_file is None:
        return clean_text(args.body, "body")
    raw = sys.stdin.buffer.read() if str(args.body_file) == "-" else args.body_file.read_bytes()
    return clean_text(raw.decode("utf-8", "surrogateescape"), "body")


def _predict(args: argparse.Namespace) -> None:
    from so_assets.embedding.encoder import load_encoder
    from so_assets.models.prediction.predict import load_tag_model, predict, predict_score

    title, body = clean_text(args.title, "title").strip(), _read_body(args)
    if not title:
        raise ValueError("the title is empty: a question needs a title to be tagged")
    models_dir = args.data_dir.absolute() / "models"
    name, model, encoder_config = load_tag_model(models_dir, args.model)
    result = predict(name, model, load_encoder(encoder_config), title, body, args.top)
    print(f"model: {result.model}")
    print("clusters (named by their most representative tag):")
    for label, score, chosen in result.clusters:
        print(f"  {'*' if chosen else ' '} {score:6.3f}  {label}")
    if result.tags_from_cluster:
        print(f"tags: none scored (this model predicts clusters only); the top cluster "
              f"{result.clusters[0][0]!r} holds, most used first: "
              + ", ".join(tag for tag, _, _ in result.tags))
    else:
        print("tags:")
        for tag, score, chosen in result.tags:
            print(f"  {'*' if chosen else ' '} {score:6.3f}  {tag}")
    print("(* = above the model's tuned decision threshold)")
    score = predict_score(models_dir, args.score_model, result,
                          args.tags.split() if args.tags else None, args.reputation,
                          args.horizon_days)
    if score is not None:
        interval = (f" (80% interval {score.low:.1f} to {score.high:.1f})"
                    if score.low is not None and score.high is not None else "")
        print(f"score after {score.horizon_days:.0f} days ({score.model}): "
              f"{score.score:.1f}{interval}")


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


def _evaluate(args: argparse.Namespace) -> int:
    """Run the chain; 0 when every step and check passed, 1 otherwise."""
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
    except (ValueError, FileNotFoundError) as exc:
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
    return 0 if run.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
