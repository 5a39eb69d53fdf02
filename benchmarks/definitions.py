"""What a daily user waits for outside the work itself: loading the code location, and the
ingest job over three sample days against the same steps called by hand in one process.

1. ``import so_assets.definitions`` in a fresh interpreter (every step process and the code
   server pay it), median of five, and which heavy libraries it loaded (none should be).
2. ``dagster job execute -j ingest_questions_job`` over the sample's first three days (its
   in-process executor) against ``load_raw_questions`` + ``build_questions`` called directly in
   one fresh process on the same days: wall time of each, the ratio, and peak RSS.

    bash benchmarks/run.sh   (all benchmarks)   or   .venv/bin/python benchmarks/definitions.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "sklearn", "xgboost")

IMPORT = f"""
import sys, time
started = time.perf_counter()
import so_assets.definitions
print(time.perf_counter() - started, [m for m in {HEAVY!r} if m in sys.modules])
"""

BY_HAND = """
import logging, resource, sys, time
from datetime import date, timedelta
started = time.perf_counter()
from so_assets.stackexchange.sources import SampleSource
from so_assets.steps.ingestion import build_questions, load_raw_questions
from so_assets.storage.stores import Stores
first, n = date.fromisoformat(sys.argv[1]), int(sys.argv[2])
days = [first + timedelta(days=i) for i in range(n)]
stores, log = Stores(sys.argv[3], "none"), logging.getLogger("bench")
load_raw_questions(stores, SampleSource(), days, log)
build_questions(stores, days, log)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def import_seconds(runs: int = 5) -> tuple[float, list[str]]:
    times, loaded = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", IMPORT], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split(maxsplit=1)
        times.append(float(out[0]))
        loaded = json.loads(out[1].replace("'", '"'))
    return statistics.median(times), loaded


def job_seconds(first_day: str, last_day: str, work: Path) -> tuple[float, float]:
    home = work / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        (REPO / "dagster.yaml").read_text().replace("data/dagster_home", str(home)))
    env = {**os.environ, "DAGSTER_HOME": str(home), "SO_ASSETS_DATA_DIR": str(work / "data")}
    tags = json.dumps({"dagster/asset_partition_range_start": first_day,
                       "dagster/asset_partition_range_end": last_day})
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", str(Path(sys.executable).with_name("dagster")), "job",
         "execute", "-m", "so_assets.definitions", "-j", "ingest_questions_job", "--tags", tags],
        cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "RUN_SUCCESS" not in done.stderr + done.stdout:
        raise SystemExit(f"ingest_questions_job failed:\n{done.stderr[-3000:]}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    from so_assets.stackexchange.sample import sample_manifest

    first = sample_manifest()["first_day"]
    from datetime import date, timedelta
    last = (date.fromisoformat(first) + timedelta(days=2)).isoformat()

    seconds, loaded = import_seconds()
    print(f"import so_assets.definitions: {seconds:.2f} s (median of 5 fresh interpreters); "
          f"heavy libraries loaded: {loaded or 'none'}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        job, job_peak = job_seconds(first, last, work)
        hand = subprocess.run([sys.executable, "-c", BY_HAND, first, "3", str(work / "hand")],
                              cwd=REPO, capture_output=True, text=True, check=True)
        hand_seconds, hand_peak = (float(x) for x in hand.stdout.split())
    print(f"ingest_questions_job, 3 sample days ({first}..{last}), dagster job execute: "
          f"{job:.1f} s wall, peak RSS {job_peak:.0f} MB")
    print(f"same steps called by hand in one process: {hand_seconds:.1f} s, "
          f"peak RSS {hand_peak:.0f} MB")
    print(f"ratio job / by hand: {job / hand_seconds:.1f}x (the difference is Dagster's run "
          f"start-up and event logging)")


if __name__ == "__main__":
    main()
