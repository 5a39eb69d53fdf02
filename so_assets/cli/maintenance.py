"""``so-assets recover-runs`` and ``generate-sample``."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def recover_runs() -> None:
    """Fail the runs whose process was killed and free their pool slots (``DAGSTER_HOME``)."""
    from so_assets.defs.run_health import fail_dead_runs_of_this_instance

    home = os.environ.get("DAGSTER_HOME")
    if not home or not Path(home).is_dir():
        raise ValueError("DAGSTER_HOME names no folder (" + (repr(home) if home else "unset")
                         + "): set it to the instance's folder, e.g. DAGSTER_HOME=$PWD from "
                         "the repository root")
    failed = fail_dead_runs_of_this_instance()
    print(f"{len(failed)} run(s) whose process was gone marked failed, their slots freed"
          + "".join(f"\n  {run_id}" for run_id in failed))


def generate_sample(args: argparse.Namespace) -> None:
    """Write the deterministic sample and print its manifest."""
    from so_assets.stackexchange.sample_generator import generate_sample as write

    manifest = write(args.out, n_questions=args.questions, n_days=args.days,
                     start_day=args.start_day, seed=args.seed, n_tags=args.tags)
    print(json.dumps(manifest, indent=2))
