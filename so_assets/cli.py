"""The ``so-assets`` command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR
from so_assets.stackexchange.sample_generator import generate_sample
from so_assets.stackexchange.sources import SOURCE_KINDS

FORMATS = tuple(k for k in SOURCE_KINDS if k != "api")


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
    predict.add_argument("--model", help="a trained model's name (default: best on validation)")
    predict.add_argument("--data-dir", type=Path, default=Path("data"))
    predict.add_argument("--top", type=int, default=5)

    evaluate = commands.add_parser(
        "evaluate", help="run the whole chain on one file, into its own folder, and report")
    evaluate.add_argument("--dataset", type=Path, required=True)
    evaluate.add_argument("--format", choices=("auto", *FORMATS), default="auto")
    evaluate.add_argument("--out", type=Path, required=True)
    evaluate.add_argument("--tags-path", type=Path, help="StackSample's Tags.csv")
    evaluate.add_argument("--site", default=None, help="site name (default: the file's stem)")
    evaluate.add_argument("--min-tag-count", type=int)
    evaluate.add_argument("--clusters", type=int)

    args = parser.parse_args(argv)
    if args.command == "generate-sample":
        manifest = generate_sample(args.out, n_questions=args.questions, n_days=args.days,
                                   start_day=args.start_day, seed=args.seed)
        print(json.dumps(manifest, indent=2))
    elif args.command == "predict":
        _predict(args)
    elif args.command == "evaluate":
        _evaluate(args)
    return 0


def _predict(args: argparse.Namespace) -> None:
    from so_assets.models.predict import load_model, predict

    name, predictor, encoder = load_model(args.data_dir / "models", args.model)
    result = predict(name, predictor, encoder, args.title, args.body, args.top)
    print(f"model: {result.model}")
    print("clusters (named by their most representative tag):")
    for label, score, chosen in result.clusters:
        print(f"  {'*' if chosen else ' '} {score:6.3f}  {label}")
    print("tags:")
    for tag, score, chosen in result.tags:
        print(f"  {'*' if chosen else ' '} {score:6.3f}  {tag}")
    print("(* = above the model's tuned decision threshold)")


def guess_format(path: Path) -> str:
    """Sniff a file's format from its name and header."""
    from so_assets.stackexchange.files import open_binary

    if path.is_dir():
        return "sample"
    with open_binary(path) as stream:
        head = stream.read(4096).decode("utf-8-sig", "replace").lstrip()
    if head.startswith("<?xml") or head.startswith("<posts"):
        return "dump"
    header = head.splitlines()[0].replace('"', "").lower().split(",") if head else []
    if {"id", "title", "content", "tags"} <= set(header):
        return "plain_csv"
    if {"id", "title", "body", "creation_date", "tags"} <= set(header):
        return "bigquery_csv"
    if {"id", "creationdate", "score", "title", "body"} <= set(header):
        return "stacksample_csv"
    raise SystemExit(f"{path}: cannot tell its format from its header {header[:8]}; "
                     f"pass --format ({', '.join(FORMATS)})")


def _evaluate(args: argparse.Namespace) -> None:
    import logging

    from so_assets.defs.offline_evaluation import evaluate_dataset

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    kind = guess_format(args.dataset) if args.format == "auto" else args.format
    site = args.site or args.dataset.name.split(".")[0]
    summary = evaluate_dataset(args.dataset, kind, args.out, site=site,
                               tags_path=args.tags_path, min_tag_count=args.min_tag_count,
                               n_clusters=args.clusters)
    report = Path(summary["report"])
    print(report.read_text().split("## Kept-tag level")[0])
    print(f"wall time {summary['wall_seconds']:.0f}s, peak RSS {summary['peak_rss_mb']:.0f} MB; "
          f"report: {report}")


if __name__ == "__main__":
    raise SystemExit(main())
