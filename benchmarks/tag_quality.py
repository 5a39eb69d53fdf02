"""The project's production tag model against the peers a practitioner would try first.

On one data set, with the project's own split, labels and metric code: one-vs-rest LinearSVC
on TF-IDF word 1-2 grams, the same on word 1-2 grams plus char_wb 2-5 grams, and a kNN vote
over the stored question vectors. Each peer is trained on the training split; its C (or k)
and its decision rule (one threshold on its scores, optionally at least the top tag) are chosen
on the validation split; the test split is read once. Three levels: the depth-1 clusters, the
tag labels (kept tags and the orphans that are labels of their own), and every tag (a peer
learns every tag with a training question; tags on no training question count as missed for
everyone, as in the project's own every-tag view).

The project's side is the data folder's production tag model (promoted by rule on validation)
and every other tag model it trained, with the test figures the evaluation report holds.
Unless --data-dir holds a successful `so-assets evaluate` (its evaluation_summary.json says
so), it first runs one on DATASET.

The peers' figures are kept in the folder (tag_quality_peers.json) under a digest of what they
learn from and are read on: the three splits' questions, texts and stored vectors, and every
level's labels and truth. A later run on the same folder (after `so-assets evaluate --force`
with another model, say) reuses them when the digest matches, and trains them again when the
split, the vectors, the tag tree or the peers' code (``PEERS_VERSION``) changed, or with
--retrain-peers: the word+char peer is most of the benchmark's cost (about 1,900 s of CPU on
biology).

    .venv/bin/python benchmarks/tag_quality.py \
        ../shared/data/real/stackexchange-tags-kaggle/crypto.csv.zip
    (folder: data/benchmarks/tag_quality/crypto/, or --data-dir)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODELS = "tfidf_linear,knn_votes,mlp,dsf_mhsa,hybrid"
LEVELS = ("clusters", "tags", "all_tags")
LEVEL_NAMES = {"clusters": "clusters", "tags": "tag labels", "all_tags": "every tag"}
SHOWN = ("micro_f1", "P@1", "R@5")
SVC_C = (0.3, 1.0, 3.0)
KNN_K = (10, 25, 50)
PEERS_VERSION = 1
"""Raised whenever a peer's features, grid or decision rule change: stored peers of another
version are trained again."""
PEERS_FILE = "tag_quality_peers.json"


@dataclass
class LevelData:
    """One level's truth on the three splits; ``names`` are the columns a peer can learn
    (``extra_test`` more test columns nobody can predict: every-tag level only)."""

    names: list[str]
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    extra_test: np.ndarray


def build_data_dir(dataset: Path, out: Path, models: str) -> None:
    print(f"so-assets evaluate --dataset {dataset} --out {out} --models {models}", flush=True)
    started = time.perf_counter()
    run = subprocess.run([str(BIN / "so-assets"), "evaluate", "--dataset", str(dataset),
                          "--out", str(out), "--models", models, "--force"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode:
        raise SystemExit(f"so-assets evaluate failed:\n{run.stdout[-3000:]}")
    print(f"  built in {time.perf_counter() - started:.0f} s\n", flush=True)


def built(data_dir: Path) -> bool:
    """Whether ``data_dir`` holds a finished, successful `so-assets evaluate` (a folder left by
    an interrupted or failed one is built again, not read)."""
    summary = data_dir / "evaluation_summary.json"
    return summary.exists() and bool(json.loads(summary.read_text()).get("success"))


def every_tag_truth(tag_lists, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """[n, names] indicators, and [n, k] for the tags of these questions outside ``names``."""
    index = {t: i for i, t in enumerate(names)}
    others = sorted({t for tags in tag_lists for t in tags} - set(index))
    other_index = {t: i for i, t in enumerate(others)}
    known = np.zeros((len(tag_lists), len(names)), np.float32)
    unknown = np.zeros((len(tag_lists), len(others)), np.float32)
    for row, tags in enumerate(tag_lists):
        for tag in tags:
            if tag in index:
                known[row, index[tag]] = 1
            else:
                unknown[row, other_index[tag]] = 1
    return known, unknown


def levels_of(data, test) -> dict[str, LevelData]:
    labels = data.labels
    train_tags = sorted({t for tags in data.train.tag_lists for t in tags})
    every = [every_tag_truth(s.tag_lists, train_tags) for s in (data.train, data.validation,
                                                               test)]
    none = np.zeros((len(test), 0), np.float32)
    return {
        "clusters": LevelData(list(labels.cluster_names), data.train.clusters,
                              data.validation.clusters, test.clusters, none),
        "tags": LevelData(list(labels.tags), data.train.tag_matrix(),
                          data.validation.tag_matrix(), test.tag_matrix(), none),
        "all_tags": LevelData(train_tags, every[0][0], every[1][0], every[2][0], every[2][1]),
    }


def peers_digest(data, test, levels: dict[str, LevelData]) -> str:
    """What the peers' figures depend on: the splits' question ids, texts and vectors (the kNN
    peer's), every level's label names and truth (train, validation, test, and the test-only
    tags), the peers' grids and ``PEERS_VERSION``."""
    digest = hashlib.sha256(repr((PEERS_VERSION, SVC_C, KNN_K)).encode())
    for split in (data.train, data.validation, test):
        for array in (split.question_ids, split.title_vectors, split.body_vectors):
            digest.update(np.ascontiguousarray(array).tobytes())
        for text in (*split.titles, *split.bodies):
            digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    for name, level in levels.items():
        digest.update(json.dumps([name, level.names]).encode())
        for truth in (level.train, level.validation, level.test, level.extra_test):
            digest.update(repr(truth.shape).encode())
            digest.update(np.packbits(np.asarray(truth) > 0).tobytes())
    return digest.hexdigest()


def stored_peers(path: Path, digest: str) -> tuple[dict, dict] | None:
    """(peers, costs) stored at ``path`` under ``digest``; None when absent, unreadable or
    stored for other inputs."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("digest") != digest or not {
            "peers", "costs"} <= stored.keys():
        return None
    return stored["peers"], stored["costs"]


def train_peers(data, test, levels: dict[str, LevelData]) -> tuple[dict, dict]:
    """Every peer on every level: (figures, cost) by peer."""
    peers: dict[str, dict[str, dict]] = {}
    costs: dict[str, dict[str, float]] = {}
    inputs = {"svc_word": lambda: tfidf_features(data, test, with_chars=False),
              "svc_word_char": lambda: tfidf_features(data, test, with_chars=True),
              "knn_vectors": lambda: {s: unit_vectors(x) for s, x in
                                      (("train", data.train), ("validation", data.validation),
                                       ("test", test))}}
    for peer, make_inputs in inputs.items():
        wall, cpu = time.perf_counter(), time.process_time()
        features = make_inputs()
        peers[peer] = {}
        for level_name, level in levels.items():
            fit = knn_peer if peer == "knn_vectors" else svc_peer
            chosen, test_out = fit(features, level)
            peers[peer][level_name] = {**chosen, **test_figures(level, **test_out)}
            print(f"  {peer} {level_name}: {chosen} -> test micro-F1 "
                  f"{peers[peer][level_name]['micro_f1']:.3f}", flush=True)
        costs[peer] = {"wall_s": time.perf_counter() - wall,
                       "cpu_s": time.process_time() - cpu}
    return peers, costs


def decide(scores: np.ndarray, threshold: float, at_least_one: bool) -> np.ndarray:
    """A plain peer's decisions: the project's rule without its cap of five labels."""
    from so_assets.models.core.thresholds import apply_thresholds

    return apply_thresholds(scores, threshold, at_least_one, at_most=None)


def best_rule(truth: np.ndarray, scores: np.ndarray) -> tuple[float, bool, float]:
    """(threshold, at least the top label, validation micro-F1) maximising micro-F1."""
    from so_assets.evaluation.tag_metrics import micro_f1

    finite = scores[np.isfinite(scores)]
    grid = np.unique(np.quantile(finite, np.linspace(0.5, 0.9995, 120)))
    best = (float(grid[0]), False, -1.0)
    for at_least_one in (False, True):
        for threshold in grid:
            f1 = micro_f1(truth, decide(scores, float(threshold), at_least_one))
            if f1 > best[2]:
                best = (float(threshold), at_least_one, f1)
    return best


def one_vs_rest_svc(features: dict[str, object], y: np.ndarray, c: float
                    ) -> dict[str, np.ndarray]:
    """Validation and test decision values of a LinearSVC per label with both classes in
    training (a label never positive scores -inf, one always positive +inf), fitted on both
    cores; no weight matrix is kept (every tag x 400,000 features would not fit)."""
    from joblib import Parallel, delayed
    from sklearn.svm import LinearSVC

    positives = y.sum(0)
    columns = np.flatnonzero((positives > 0) & (positives < len(y)))
    x = features["train"]

    def fit(column: int) -> tuple[np.ndarray, np.ndarray]:
        model = LinearSVC(C=c, max_iter=2000, random_state=0).fit(x, y[:, column])
        return tuple(model.decision_function(features[s]).astype(np.float32)
                     for s in ("validation", "test"))

    fitted = Parallel(n_jobs=2, backend="threading")(delayed(fit)(j) for j in columns)
    out = {}
    for i, split in enumerate(("validation", "test")):
        scores = np.full((features[split].shape[0], y.shape[1]), -np.inf, np.float32)
        scores[:, positives == len(y)] = np.inf
        for column, pair in zip(columns, fitted, strict=True):
            scores[:, column] = pair[i]
        out[split] = scores
    return out


def svc_peer(features: dict[str, object], level: LevelData) -> tuple[dict, dict]:
    """The LinearSVC peer on one level: C and rule chosen on validation, test scores."""
    best: tuple | None = None
    for c in SVC_C:
        scores = one_vs_rest_svc(features, level.train, c)
        threshold, at_least_one, f1 = best_rule(level.validation, scores["validation"])
        if best is None or f1 > best[0]:
            best = (f1, c, threshold, at_least_one, scores["test"])
    f1, c, threshold, at_least_one, test_scores = best
    return ({"C": c, "threshold": threshold, "at_least_one": at_least_one,
             "validation_micro_f1": f1},
            {"scores": test_scores, "chosen": decide(test_scores, threshold, at_least_one)})


def tfidf_features(data, test, with_chars: bool) -> dict[str, object]:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    from so_assets.models.core.data import question_text

    texts = {name: question_text(s.titles, s.bodies)
             for name, s in (("train", data.train), ("validation", data.validation),
                             ("test", test))}
    vectorizers = [TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                   max_features=200_000, dtype=np.float32)]
    if with_chars:
        vectorizers.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                           sublinear_tf=True, max_features=200_000,
                                           dtype=np.float32))
    parts = {name: [] for name in texts}
    for vectorizer in vectorizers:
        parts["train"].append(vectorizer.fit_transform(texts["train"]))
        for name in ("validation", "test"):
            parts[name].append(vectorizer.transform(texts[name]))
    scale = 1 / np.sqrt(len(vectorizers))  # the joined rows stay unit length
    return {name: sparse.hstack(p, format="csr", dtype=np.float32) * scale
            for name, p in parts.items()}


def unit_vectors(split) -> np.ndarray:
    from so_assets.tagtree.geometry import normalize_rows

    return normalize_rows(normalize_rows(split.title_vectors) +
                          normalize_rows(split.body_vectors))


def knn_scores(train_vectors: np.ndarray, train_truth: np.ndarray, vectors: np.ndarray,
               k: int) -> np.ndarray:
    out = np.zeros((len(vectors), train_truth.shape[1]), np.float32)
    for lo in range(0, len(vectors), 1024):
        sims = vectors[lo: lo + 1024] @ train_vectors.T
        top = np.argpartition(-sims, min(k, sims.shape[1] - 1), axis=1)[:, :k]
        weights = np.clip(np.take_along_axis(sims, top, axis=1), 0, None)
        out[lo: lo + 1024] = np.einsum("nk,nkl->nl", weights, train_truth[top])
    return out


def knn_peer(vectors: dict[str, np.ndarray], level: LevelData) -> tuple[dict, dict]:
    best = None
    for k in KNN_K:
        scores = knn_scores(vectors["train"], level.train, vectors["validation"], k)
        threshold, at_least_one, f1 = best_rule(level.validation, scores)
        if best is None or f1 > best[0]:
            best = (f1, k, threshold, at_least_one)
    f1, k, threshold, at_least_one = best
    test_scores = knn_scores(vectors["train"], level.train, vectors["test"], k)
    return ({"k": k, "threshold": threshold, "at_least_one": at_least_one,
             "validation_micro_f1": f1},
            {"scores": test_scores, "chosen": decide(test_scores, threshold, at_least_one)})


def test_figures(level: LevelData, scores: np.ndarray, chosen: np.ndarray) -> dict[str, float]:
    """The project's metric code on the test split (unpredictable tags count as missed)."""
    from so_assets.evaluation.tag_metrics import multilabel_metrics

    extra = level.extra_test
    truth = np.hstack([level.test, extra])
    scores = np.hstack([np.where(np.isfinite(scores), scores, -1e9), np.full(extra.shape, -1e9)])
    chosen = np.hstack([chosen, np.zeros(extra.shape, bool)])
    return multilabel_metrics(truth, scores, chosen)


def project_figures(data_dir: Path) -> tuple[str, dict[str, dict[str, dict[str, float]]]]:
    """The production tag model's name and every tag model's test figures by level."""
    import duckdb

    from so_assets.models.publication.production import read_production

    production = read_production(data_dir / "models")["tag"]
    with duckdb.connect(str(data_dir / "so_assets.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT model, level, metric, value FROM tag_model_metrics"
                           ).fetchall()
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for model, level, metric, value in rows:
        figures.setdefault(model, {}).setdefault(level, {})[metric] = value
    return production.name, figures


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="a folder built by so-assets evaluate (built when missing)")
    parser.add_argument("--models", default=MODELS, help="tag models evaluate trains")
    parser.add_argument("--retrain-peers", action="store_true",
                        help=f"train the peers even when {PEERS_FILE} holds them for this "
                             "folder's split and labels")
    args = parser.parse_args()
    name = args.dataset.name.split(".")[0]
    data_dir = args.data_dir or REPO / "data" / "benchmarks" / "tag_quality" / name
    if not built(data_dir):
        build_data_dir(args.dataset, data_dir, args.models)

    from so_assets.embedding.config import EncoderConfig
    from so_assets.models.prediction.assemble import assemble
    from so_assets.storage.stores import Stores

    stores = Stores(data_dir, EncoderConfig().slug())
    data, test = assemble(stores)
    levels = levels_of(data, test)
    print(f"{name}: {len(data.train)} train / {len(data.validation)} validation / "
          f"{len(test)} test questions; {len(levels['clusters'].names)} clusters, "
          f"{len(levels['tags'].names)} tag labels, {len(levels['all_tags'].names)} tags on "
          f"training questions (+{levels['all_tags'].extra_test.shape[1]} on test only)",
          flush=True)
    production, project = project_figures(data_dir)
    digest = peers_digest(data, test, levels)
    peers_path = data_dir / PEERS_FILE
    stored = None if args.retrain_peers else stored_peers(peers_path, digest)
    if stored:
        peers, costs = stored
        print(f"  peers: from {peers_path} (the same split, labels and peer code)", flush=True)
    else:
        peers, costs = train_peers(data, test, levels)
        peers_path.write_text(json.dumps({"digest": digest, "peers": peers, "costs": costs},
                                         indent=1, default=float))
    print_table(name, production, project, peers, costs)
    out = data_dir / "tag_quality.json"
    out.write_text(json.dumps({"dataset": str(args.dataset), "production": production,
                               "project": project, "peers": peers, "costs": costs}, indent=1,
                              default=float))
    print(f"\nfigures: {out}; peak RSS {peak_rss_mb():.0f} MB")


def print_table(name: str, production: str, project: dict, peers: dict, costs: dict) -> None:
    shown = [m for m in (production, "tfidf_linear") if m in project]
    print(f"\n{name}, test split, micro-F1 / P@1 / R@5 (production model: {production})\n")
    header = ["level", *shown, *peers, f"{production} - best peer (points)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for level in LEVELS:
        cells = [LEVEL_NAMES[level]]
        for model in shown:
            f = project[model].get(level, {})
            cells.append(" / ".join(f"{f[m]:.3f}" if m in f else "-" for m in SHOWN))
        for peer in peers:
            f = peers[peer][level]
            cells.append(" / ".join(f"{f[m]:.3f}" for m in SHOWN))
        mine = project[production].get(level, {})
        margins = []
        for metric in SHOWN:
            best_peer = max(peers[p][level][metric] for p in peers)
            margins.append(f"{100 * (mine[metric] - best_peer):+.1f}" if metric in mine else "-")
        cells.append(" / ".join(margins))
        print("| " + " | ".join(cells) + " |")
    print("\npeer cost (features, fits over every C or k, three levels): " + ", ".join(
        f"{p} {c['wall_s']:.0f} s wall / {c['cpu_s']:.0f} s CPU" for p, c in costs.items()))


if __name__ == "__main__":
    main()
