"""Nearest neighbours as ``knn_votes`` finds them: exact search (every query against every
training question: the project's, faiss's brute-force search; numpy's product and
argpartition in blocks, which it used before; scikit-learn's brute-force ``NearestNeighbors``)
against the faiss HNSW graph the project switches to past 50,000 training questions. For each
index size: CPU seconds to build and to search, the share of the exact 25 neighbours found
(recall@25), and each method's growth exponent in CPU (slope of log CPU against log size; 2.0
for exact search, whose queries grow with the index here).

The vectors: a run folder's question vectors (``--run``, an `so-assets evaluate --out`
folder: [title, body] each unit, as ``knn_votes`` joins them), one fifth of them queries; or,
without one, 768-d unit vectors around 500 topic directions. Sizes past the run's questions
are left out.

    .venv/bin/python benchmarks/neighbours.py                       # 10k, 30k, 100k generated
    .venv/bin/python benchmarks/neighbours.py --run data/benchmarks/scale/q30000_t20000/run
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from pathlib import Path

import numpy as np

from so_assets.models.core.nearest import NeighbourIndex

K = 25


def run_vectors(run: Path) -> np.ndarray:
    """Every question vector of an evaluate folder, joined as knn_votes joins them."""
    import h5py

    titles, bodies = [], []
    for path in sorted(run.glob("embeddings/*/question_embeddings/*.h5")):
        with h5py.File(path, "r") as f:
            titles.append(f["title"][:])
            bodies.append(f["body"][:])
    if not titles:
        raise SystemExit(f"{run} holds no question vectors (embeddings/*/question_embeddings)")
    return _unit(np.hstack([_unit(np.vstack(titles)), _unit(np.vstack(bodies))]))


def topic_vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(500, 768))
    return _unit(centres[rng.integers(0, 500, n)] + 1.2 * rng.normal(size=(n, 768)))


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)).astype(np.float32)


def cpu_of(action):
    started = time.process_time()
    result = action()
    return result, time.process_time() - started


def numpy_search(rows: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact search as the project did it before faiss's: a block of queries' products with
    every row (2^24 similarities at a time), then argpartition."""
    found = np.empty((len(queries), k), np.int64)
    chunk = max(1, 2**24 // len(rows))
    for lo in range(0, len(queries), chunk):
        block = queries[lo: lo + chunk] @ rows.T
        found[lo: lo + chunk] = np.argpartition(-block, k - 1, axis=1)[:, :k]
    return found


def recall_of(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(found, truth, strict=True)]))


def measure(vectors: np.ndarray) -> dict:
    from sklearn.neighbors import NearestNeighbors

    queries, rows = vectors[: len(vectors) // 5], vectors[len(vectors) // 5:]
    exact, _ = cpu_of(lambda: NeighbourIndex(rows, exact_up_to=len(rows)))
    (_, truth), exact_cpu = cpu_of(lambda: exact.search(queries, K))
    by_numpy, numpy_cpu = cpu_of(lambda: numpy_search(rows, queries, K))
    brute = NearestNeighbors(n_neighbors=K, algorithm="brute", metric="cosine", n_jobs=2)
    _, sklearn_cpu = cpu_of(lambda: brute.fit(rows).kneighbors(queries))
    graph, build_cpu = cpu_of(lambda: NeighbourIndex(rows, exact_up_to=0))
    (_, found), search_cpu = cpu_of(lambda: graph.search(queries, K))
    return {"rows": len(rows), "queries": len(queries), "exact": exact_cpu,
            "numpy": numpy_cpu, "numpy_agrees": recall_of(by_numpy, truth),
            "sklearn": sklearn_cpu, "build": build_cpu, "search": search_cpu,
            "recall": recall_of(found, truth)}


def slope(sizes: list[int], cpu: list[float]) -> float:
    x, y = np.log(sizes), np.log(np.maximum(cpu, 1e-3))
    return float(np.polyfit(x, y, 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000",
                        help="questions per size (a fifth of them are the queries)")
    parser.add_argument("--run", type=Path, help="an evaluate folder whose vectors to use")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    every = run_vectors(args.run) if args.run else topic_vectors(max(sizes))
    rng = np.random.default_rng(1)
    every = every[rng.permutation(len(every))]
    sizes = [n for n in sizes if n <= len(every)] or [len(every)]
    source = args.run or "768-d vectors around 500 topics"
    print(f"vectors: {source}; k = {K}; CPU seconds (2 cores)")
    print("| questions | index rows | exact (faiss) | numpy (before) | scikit-learn brute | "
          "graph build + search | numpy / exact | scikit-learn / exact | graph / exact | "
          "recall@25 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    results = []
    for n in sizes:
        r = measure(every[:n])
        results.append(r)
        graph = r["build"] + r["search"]
        print(f"| {n:,} | {r['rows']:,} | {r['exact']:.1f} | {r['numpy']:.1f} | "
              f"{r['sklearn']:.1f} | {r['build']:.1f} + {r['search']:.1f} | "
              f"{r['numpy'] / r['exact']:.1f} | {r['sklearn'] / r['exact']:.1f} | "
              f"{graph / r['exact']:.2f} | {r['recall']:.3f} |", flush=True)
        if r["numpy_agrees"] < 0.999:
            print(f"  numpy's neighbours differ from faiss's: {r['numpy_agrees']:.4f} in "
                  "common (ties)")
    if len(results) > 1:
        sizes = [r["rows"] for r in results]
        n_log_n = 1 + math.log(math.log(sizes[-1]) / math.log(sizes[0])) / math.log(
            sizes[-1] / sizes[0])
        print(f"growth exponent in CPU: exact {slope(sizes, [r['exact'] for r in results]):.2f}, "
              f"numpy {slope(sizes, [r['numpy'] for r in results]):.2f}, "
              f"scikit-learn {slope(sizes, [r['sklearn'] for r in results]):.2f}, graph "
              f"{slope(sizes, [r['build'] + r['search'] for r in results]):.2f} "
              f"(n log n from the first size to the last: {n_log_n:.2f})")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


if __name__ == "__main__":
    main()
