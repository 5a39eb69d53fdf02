"""The ``so-assets`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from so_assets.cli import maintenance
from so_assets.cli.options import bounded_float, bounded_int
from so_assets.stackexchange.errors import SourceError
from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR
from so_assets.stackexchange.sources import SOURCES

HORIZON_DAYS = 3650.0
"""The oldest age a score is predicted for (ten years): the score models learned from ages up
to their training questions' and are not extrapolated past this."""

FILE_FORMATS = tuple(k for k in SOURCES if k != "api")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``so-assets`` console script."""
    parser = argparse.ArgumentParser(prog="so-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser(
        "generate-sample",
        help="write a deterministic sample in the API's JSON shape (the bundled one by default)")
    sample.add_argument("--out", type=Path, default=DEFAULT_SAMPLE_DIR)
    sample.add_argument("--questions", type=bounded_int(10), default=1400)
    sample.add_argument("--days", type=bounded_int(1, 3650), default=21)
    sample.add_argument("--start-day", type=date.fromisoformat, default=date(2024, 3, 1))
    sample.add_argument("--seed", type=int, default=20240301)
    sample.add_argument("--tags", type=bounded_int(1, 200_000), default=None,
                        help="a universe of this many tags: the hand-picked ~100 and narrower "
                             "ones under them, Zipf popularity, co-occurring with their broader "
                             "tag, each with words of its own (default: the hand-picked tags)")

    predict = commands.add_parser("predict", help="top clusters and tags for one question")
    predict.add_argument("--title", required=True)
    predict.add_argument("--body", default="", help="plain text or the post's HTML")
    predict.add_argument("--body-file", type=Path,
                         help="read the body from this file ('-': standard input)")
    predict.add_argument("--model", help="a trained tag model's name (default: best on "
                                         "validation)")
    predict.add_argument("--data-dir", type=Path, default=Path("data"))
    predict.add_argument("--top", type=bounded_int(1, 100), default=5,
                         help="clusters and tags shown (1 to 100)")
    predict.add_argument("--score-model", help="a trained score model's name (default: best "
                                               "on validation)")
    predict.add_argument("--tags", help="the question's own tags, space-separated (default: "
                                        "the tags the tag model predicts)")
    predict.add_argument("--reputation", type=bounded_float(0, 1e8),
                         help="the asker's reputation")
    predict.add_argument("--horizon-days", type=bounded_float(0, HORIZON_DAYS, low_open=True),
                         default=365.0, help="predict the score the question has at this age "
                                             f"(days, above 0 and at most {HORIZON_DAYS:g}; "
                                             "default 365)")

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
    evaluate.add_argument("--min-tag-count", type=bounded_int(1),
                          help="training questions a tag needs to be kept (default: 0.1 %% "
                               "of them, at least 5)")
    evaluate.add_argument("--clusters", type=bounded_int(2, 1000),
                          help="label clusters (default: one per four kept tags, 2 to 100; "
                               "at most the kept tags, and said so when fewer)")
    evaluate.add_argument("--models", help="comma-separated tag and score model names to "
                          "train (default: every registered model)")
    evaluate.add_argument("-c", "--config", type=Path, action="append", default=[],
                          help="run config YAML, as `dagster job execute -c` takes it (e.g. a "
                               "model's parameters under ops: tag_model_mlp: config:); "
                               "repeatable, later files win")

    serve = commands.add_parser(
        "serve", help="the HTTP suggestion service over the production models (FastAPI)")
    serve.add_argument("--data-dir", type=Path, default=Path("data"))
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; there is no authentication: "
                            "put a proxy in front before binding another)")
    serve.add_argument("--port", type=bounded_int(1, 65535), default=8000)

    commands.add_parser(
        "recover-runs",
        help="fail the runs whose process was killed and free their pool slots (DAGSTER_HOME)")

    args = parser.parse_args(argv)
    if args.command == "evaluate":
        from so_assets.cli import evaluate

        return evaluate.run(args)
    try:
        if args.command == "generate-sample":
            maintenance.generate_sample(args)
        elif args.command == "predict":
            from so_assets.cli import predict

            predict.run(args)
        elif args.command == "recover-runs":
            maintenance.recover_runs()
        elif args.command == "serve":
            from so_assets.cli import serve

            serve.run(args)
    except (ValueError, OSError, SourceError) as exc:
        raise SystemExit(f"so-assets {args.command}: {exc}") from None
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
