"""The chain at the seed's scale: wall, CPU and peak RSS per step as questions and tags grow,
and each step's fitted growth exponent.

Each size is a sample made by `so-assets generate-sample --questions N --tags T` (a
StackOverflow-like long tail of tags), run through `so-assets evaluate` with the production
family and its parts (`--models`, default tfidf_linear, knn_votes, mlp, hybrid) in a child
process. This process samples the CPU time and resident memory of the child and every process
below it (the worker processes `tfidf_linear` fits on) from /proc every 0.2 s
(:mod:`process_tree`); the run's own summary says when each step started and ended, so each
step gets the CPU spent and the highest summed RSS seen while it ran (a spike shorter than 0.2 s
can be missed). The run's CPU total is the kernel's account of the child and all it waited for.

The questions axis runs at --axis-tags distinct tags, the tags axis at --axis-questions
questions. A step's exponent is the least-squares slope of log CPU seconds against log size
along an axis (1.0: linear; n log n between 10k and 100k questions is about 1.1), for steps
that take at least 2 s of CPU at the smallest size.

    .venv/bin/python benchmarks/scale.py                       # 10k, 30k, 100k x 1k, 5k, 20k
    .venv/bin/python benchmarks/scale.py --questions 2000,6000 --tags 300,1000 \\
        --axis-questions 2000 --axis-tags 1000                 # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from process_tree import TreeSampler

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUT = REPO / "data" / "benchmarks" / "scale"
MODELS = "tfidf_linear,knn_votes,mlp,hybrid"
MIN_CPU_FOR_EXPONENT = 2.0


def run_sampled(command: list[str], log_path: Path) -> tuple[int, TreeSampler, float, float]:
    """Run ``command``, sampling its process tree; (return code, samples, wall seconds, CPU
    seconds of the command and every process it waited for, from this process's own account
    of its children)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log_path.open("w") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        with TreeSampler(child.pid) as usage:
            code = child.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return code, usage, time.perf_counter() - started, cpu


def measure(questions: int, tags: int, models: str, keep: bool) -> dict:
    """Generate one size, run evaluate on it, and attribute CPU and memory to its steps."""
    name = f"q{questions}_t{tags}"
    sample, out = OUT / name / "sample", OUT / name / "run"
    out.parent.mkdir(parents=True, exist_ok=True)
    generated = time.perf_counter()
    if not (sample / "manifest.json").exists():
        subprocess.run([str(BIN / "so-assets"), "generate-sample", "--out", str(sample),
                        "--questions", str(questions), "--tags", str(tags)], check=True,
                       stdout=subprocess.DEVNULL)
    generated = time.perf_counter() - generated
    print(f"{name}: generated in {generated:.0f} s; so-assets evaluate ...", flush=True)
    code, usage, wall, cpu = run_sampled(
        [str(BIN / "so-assets"), "evaluate", "--dataset", str(sample), "--format", "sample",
         "--out", str(out), "--models", models, "--force"], OUT / name / "evaluate.log")
    summary_path = out / "evaluation_summary.json"
    if code or not summary_path.exists():
        raise SystemExit(f"{name}: evaluate exited {code}; see {OUT / name / 'evaluate.log'}")
    summary = json.loads(summary_path.read_text())
    steps = {}
    for key, step in summary["steps"].items():
        start, end = step["start"], step["start"] + step["seconds"]
        steps[key] = {"wall_s": step["seconds"],
                      "cpu_s": usage.cpu_at(end + 0.2) - usage.cpu_at(start),
                      "peak_rss_mb": usage.peak_between(start, end)}
    result = {"questions": questions, "tags": tags, "wall_s": wall,
              "cpu_s": cpu,
              "peak_rss_mb": usage.peak_mb, "success": summary["success"],
              "failed": summary["failed"], "min_tag_count": summary.get("min_tag_count"),
              "n_clusters": summary.get("n_clusters"), "steps": steps}
    print(f"  {wall / 60:.1f} min wall, {result['cpu_s'] / 60:.1f} min CPU, peak RSS "
          f"{usage.peak_mb / 1024:.2f} GB, success {summary['success']}", flush=True)
    (OUT / name / "evaluation_summary.json").write_text(summary_path.read_text())
    if not keep:  # the 100k run's folders take GBs: keep only the figures
        shutil.rmtree(out)
        shutil.rmtree(sample)
    return result


def exponent(sizes: list[int], cpu: list[float]) -> float | None:
    """Least-squares slope of log CPU against log size, or None when too small to say."""
    if len(sizes) < 2 or min(cpu) < MIN_CPU_FOR_EXPONENT:
        return None
    xs, ys = [math.log(s) for s in sizes], [math.log(c) for c in cpu]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs)


def print_axis(title: str, runs: list[dict], size_key: str) -> None:
    runs = sorted(runs, key=lambda r: r[size_key])
    sizes = [r[size_key] for r in runs]
    keys = [k for k in runs[-1]["steps"] if all(k in r["steps"] for r in runs)]
    print(f"\n{title}\n")
    for r in runs:
        plan = json.loads((OUT / f"q{r['questions']}_t{r['tags']}" /
                           "evaluation_summary.json").read_text())
        print(f"- {r['questions']:,} questions over a {r['tags']:,}-tag universe: "
              f"{plan['tags']:,} distinct tags used, {plan['kept_tags']:,} kept (on "
              f"{plan['min_tag_count']}+ questions), {plan['n_clusters']} clusters")
    print()
    print("| step | " + " | ".join(f"{s:,}: wall / CPU s, peak MB" for s in sizes) +
          " | CPU exponent |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for key in sorted(keys, key=lambda k: -runs[-1]["steps"][k]["cpu_s"]):
        cells = [f"{r['steps'][key]['wall_s']:.1f} / {r['steps'][key]['cpu_s']:.1f}, "
                 f"{r['steps'][key]['peak_rss_mb']:.0f}" for r in runs]
        slope = exponent(sizes, [r["steps"][key]["cpu_s"] for r in runs])
        shown = "-" if slope is None else f"{slope:.2f}"
        print(f"| {key} | " + " | ".join(cells) + f" | {shown} |")
    print("| whole run | " + " | ".join(
        f"{r['wall_s']:.0f} / {r['cpu_s']:.0f}, {r['peak_rss_mb']:.0f}" for r in runs) +
        f" | {exponent(sizes, [r['cpu_s'] for r in runs]) or 0:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", default="10000,30000,100000")
    parser.add_argument("--tags", default="1000,5000,20000")
    parser.add_argument("--axis-tags", type=int, default=20000,
                        help="distinct tags of the questions axis")
    parser.add_argument("--axis-questions", type=int, default=30000,
                        help="questions of the tags axis")
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--keep", action="store_true",
                        help="keep each size's sample and evaluate folder")
    args = parser.parse_args()
    question_sizes = [int(q) for q in args.questions.split(",")]
    tag_sizes = [int(t) for t in args.tags.split(",")]
    wanted = [(q, args.axis_tags) for q in question_sizes] + [
        (args.axis_questions, t) for t in tag_sizes if (args.axis_questions, t) not in
        {(q, args.axis_tags) for q in question_sizes}]
    OUT.mkdir(parents=True, exist_ok=True)
    results_path = OUT / "scale.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for questions, tags in sorted(wanted):
        key = f"q{questions}_t{tags}_{args.models}"
        if key not in results:
            results[key] = measure(questions, tags, args.models, args.keep)
            results_path.write_text(json.dumps(results, indent=1))
    chosen = [results[f"q{q}_t{t}_{args.models}"] for q, t in wanted]
    print_axis(f"Questions axis ({args.axis_tags:,} distinct tags): models {args.models}",
               [r for r in chosen if r["tags"] == args.axis_tags], "questions")
    print_axis(f"Tags axis ({args.axis_questions:,} questions)",
               [r for r in chosen if r["questions"] == args.axis_questions], "tags")
    print(f"\nfigures: {results_path}")


if __name__ == "__main__":
    main()
