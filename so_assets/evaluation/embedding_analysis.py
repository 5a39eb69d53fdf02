"""The seed report's embedding checks: nearest-neighbour similarity and PCA variance curve.

Vectors stream from the HDF5 partitions: a sample of queries is compared with every stored
vector batch by batch, and PCA is fitted on a uniform sample, so memory is bounded by the
sample sizes, not by the corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from so_assets.evaluation.plots import new_figure, save_png
from so_assets.evaluation.report import Report, Table

Batches = Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]
"""A fresh pass over (question ids, vectors) batches of one stored field."""

VARIANCE_TARGETS = (0.38, 0.50, 0.90)


@dataclass
class FieldAnalysis:
    name: str
    nn_cosine: np.ndarray  # each sampled question's best cosine to another question
    nn_question_ids: np.ndarray  # the sampled questions
    cumulative_variance: np.ndarray
    components_for: dict[float, int] = field(default_factory=dict)


def sample_rows(batches: Batches, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A uniform sample of ``k`` rows (ids and vectors) over all batches, in two passes."""
    total = sum(len(ids) for ids, _ in batches())
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(total, size=min(k, total), replace=False))
    ids, rows, offset = [], [], 0
    for batch_ids, vectors in batches():
        inside = picks[(picks >= offset) & (picks < offset + len(batch_ids))] - offset
        ids.append(batch_ids[inside])
        rows.append(vectors[inside])
        offset += len(batch_ids)
    return np.concatenate(ids), np.concatenate(rows).astype(np.float32)


def nearest_neighbour_cosines(batches: Batches, query_ids: np.ndarray, queries: np.ndarray
                              ) -> np.ndarray:
    """For each query, the highest cosine to any other stored vector (unit vectors assumed)."""
    best = np.full(len(queries), -1.0, dtype=np.float32)
    for ids, vectors in batches():
        sims = queries @ vectors.astype(np.float32).T
        sims[query_ids[:, None] == ids[None, :]] = -1.0  # not itself
        np.maximum(best, sims.max(axis=1), out=best)
    return best


def analyse_field(name: str, batches: Batches, nn_sample: int = 2000,
                  pca_sample: int = 20_000, seed: int = 0) -> FieldAnalysis:
    """Nearest-neighbour cosine distribution and PCA cumulative explained variance."""
    from sklearn.decomposition import PCA

    query_ids, queries = sample_rows(batches, nn_sample, seed)
    if len(query_ids) < 3:
        raise ValueError(f"{name}: {len(query_ids)} vectors; need at least 3")
    nn = nearest_neighbour_cosines(batches, query_ids, queries)
    _, sample = sample_rows(batches, pca_sample, seed + 1)
    pca = PCA(n_components=min(sample.shape), random_state=seed).fit(sample)
    cumulative = np.cumsum(pca.explained_variance_ratio_)
    reach = {t: int(np.searchsorted(cumulative, t) + 1) for t in VARIANCE_TARGETS
             if cumulative[-1] >= t}
    return FieldAnalysis(name, nn, query_ids, cumulative, reach)


def render_analysis(fields: list[FieldAnalysis], out_dir: Path) -> dict[str, Path]:
    """Two plots: nearest-neighbour cosine histograms and the cumulative variance curves."""
    fig, ax = new_figure()
    for f in fields:
        ax.hist(f.nn_cosine, bins=50, range=(0, 1), alpha=0.55,
                label=f"{f.name} (median {np.median(f.nn_cosine):.2f})")
    ax.set_xlabel("cosine similarity to the nearest other question")
    ax.set_ylabel("questions")
    ax.set_title("Nearest-neighbour similarity")
    ax.legend()
    nn_path = save_png(fig, out_dir / "nearest_neighbour_cosine.png")
    fig, ax = new_figure()
    for f in fields:
        ax.plot(np.arange(1, len(f.cumulative_variance) + 1), f.cumulative_variance,
                label=f.name)
    for target in VARIANCE_TARGETS:
        ax.axhline(target, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xlabel("principal components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_title("PCA: " + "; ".join(
        f"{f.name} " + ", ".join(f"{t:.0%}@{n}" for t, n in f.components_for.items())
        for f in fields))
    ax.legend()
    pca_path = save_png(fig, out_dir / "pca_cumulative_variance.png")
    return {"nearest_neighbour_cosine": nn_path, "pca_cumulative_variance": pca_path}


def analysis_report(fields: list[FieldAnalysis], out_dir: Path) -> Report:
    """The plots, the components needed per variance target and the median similarities."""
    report = Report("embeddings", "Embeddings: neighbours and principal components")
    for name, path in render_analysis(fields, out_dir).items():
        report.plot(name, path)
    table = report.table("variance", Table(
        ["field", "median nearest-neighbour cosine",
         *[f"components for {t:.0%}" for t in VARIANCE_TARGETS]]))
    for f in fields:
        table.add(f.name, float(np.median(f.nn_cosine)),
                  *[f.components_for.get(t, "not reached") for t in VARIANCE_TARGETS])
        report.figures[f"{f.name}_nn_cosine_median"] = float(np.median(f.nn_cosine))
        for t, n in f.components_for.items():
            report.figures[f"{f.name}_components_for_{int(t * 100)}pct"] = n
    return report
