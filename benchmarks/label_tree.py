"""`tfidf_linear`'s tags learned within their clusters (the label-tree form) against its loop of
one regression per tag over every training question, on real sites.

For each data set: a data folder from `so-assets evaluate --models tfidf_linear` (built unless
--data-dir, or the folder benchmarks/tag_quality.py leaves, holds a successful one), then one
fresh process per variant trains TfidfLinear on the project's split and labels, tunes its
thresholds on validation (the project's rule) and reads the test split once:

- ``per tag, 1 thread``: every tag's regression on every training question, one at a time;
- ``per tag, 2 threads``: the same fits, two at a time;
- ``within clusters, own questions``: each tag's regression on its depth-1 cluster's training
  questions only, its score P(cluster) x P(tag | cluster), two at a time;
- ``within clusters, + routed``: the same, and the training questions the cluster model routes
  to that cluster (among their 3 best: the default, ``routed_clusters``), as negatives.

Prints the fit's wall and CPU seconds and peak RSS (of this process and the worker processes
the fits run on), and test micro-F1 / P@1 / R@5 at cluster and tag-label level, with the
within-clusters form's difference in points.

    .venv/bin/python benchmarks/label_tree.py \
        ../shared/data/real/stackexchange-tags-kaggle/{robotics,crypto,biology}.csv.zip
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from process_tree import TreeSampler
from tag_quality import REPO, build_data_dir, built

VARIANTS = {"per tag, 1 thread": {"threads": 1},
            "per tag, 2 threads": {"threads": 2},
            "within clusters, own questions": {"threads": 2, "tag_learning": "within_clusters",
                                               "routed_clusters": 0},
            "within clusters, + routed": {"threads": 2, "tag_learning": "within_clusters"}}
SHOWN = ("micro_f1", "P@1", "R@5")


def worker(data_dir: Path, params: dict) -> dict:
    """Train, tune and test one variant in this process; its figures."""
    from so_assets.embedding.config import EncoderConfig
    from so_assets.models.prediction.assemble import assemble
    from so_assets.models.tags.linear import TfidfLinear, TfidfLinearParams
    from so_assets.storage.stores import Stores

    data, test = assemble(Stores(data_dir, EncoderConfig().slug()))
    model = TfidfLinear(data.labels, TfidfLinearParams.from_dict(params))
    wall = time.perf_counter()
    with TreeSampler() as usage:  # the fits run on worker processes past PROCESSES_FROM
        model.fit(data)
    fit = {"wall_s": time.perf_counter() - wall, "cpu_s": usage.cpu_s}
    model.calibrate(data.validation)
    metrics = model.evaluate(test)
    return {**fit, "peak_rss_mb": usage.peak_mb,
            "tags": len(data.labels.tags), "clusters": data.labels.n_clusters,
            "train": len(data.train), **metrics}


def data_dir_for(dataset: Path, given: Path | None) -> Path:
    name = dataset.name.split(".")[0]
    if given is not None:
        return given
    for folder in (REPO / "data" / "benchmarks" / "tag_quality" / name,
                   REPO / "data" / "benchmarks" / "label_tree" / name):
        if built(folder):
            return folder
    folder = REPO / "data" / "benchmarks" / "label_tree" / name
    build_data_dir(dataset, folder, "tfidf_linear")
    return folder


def run_variant(data_dir: Path, params: dict) -> dict:
    run = subprocess.run([sys.executable, __file__, "--worker", str(data_dir),
                          "--params", json.dumps(params)], capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"variant {params} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def cells(figures: dict, prefix: str) -> str:
    return " / ".join(f"{figures[prefix + m]:.3f}" for m in SHOWN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="*")
    parser.add_argument("--data-dir", type=Path, help="one data set's evaluate folder")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.params))))
        return
    print("| site | variant | fit wall s | fit CPU s | peak RSS MB | clusters micro-F1 / P@1 / "
          "R@5 | tag labels micro-F1 / P@1 / R@5 |\n|---|---|---|---|---|---|---|", flush=True)
    for dataset in args.datasets:
        data_dir = data_dir_for(dataset, args.data_dir)
        name = dataset.name.split(".")[0]
        results = {}
        for variant, params in VARIANTS.items():
            f = results[variant] = run_variant(data_dir, params)
            print(f"| {name} ({f['train']:,} train, {f['tags']} tags) | {variant} | "
                  f"{f['wall_s']:.1f} | {f['cpu_s']:.1f} | {f['peak_rss_mb']:.0f} | "
                  f"{cells(f, '')} | {cells(f, 'tags_')} |", flush=True)
        loop = results["per tag, 2 threads"]
        for variant in [v for v in VARIANTS if v.startswith("within")]:
            tree = results[variant]
            print(f"| {name} | {variant} against per tag, 2 threads | "
                  f"{loop['wall_s'] / tree['wall_s']:.1f}x less | "
                  f"{loop['cpu_s'] / tree['cpu_s']:.1f}x less | | {points(tree, loop, '')} | "
                  f"{points(tree, loop, 'tags_')} |", flush=True)


def points(mine: dict, theirs: dict, prefix: str) -> str:
    return " / ".join(f"{100 * (mine[prefix + m] - theirs[prefix + m]):+.1f}" for m in SHOWN)

if __name__ == "__main__":
    main()
