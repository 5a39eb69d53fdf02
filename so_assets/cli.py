"""The ``so-assets`` command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR
from so_assets.stackexchange.sample_generator import generate_sample


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

    args = parser.parse_args(argv)
    if args.command == "generate-sample":
        manifest = generate_sample(args.out, n_questions=args.questions, n_days=args.days,
                                   start_day=args.start_day, seed=args.seed)
        print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
