"""Sparse and dense together: late fusion of the TF-IDF model, the dense MLP and
nearest-neighbour votes, for clusters and for kept tags.

On real Stack Exchange text the TF-IDF baseline beat every dense architecture: tags are often
named literally in the text, and a general-purpose sentence vector (384 numbers for a whole
body) keeps the topic but drops those exact words. The dense side, in turn, knows synonyms and
context the sparse one misses. This model trains all three on the same split and mixes their
probabilities with weights chosen on validation (a grid over the simplex): clusters from
sparse, MLP and neighbours, kept tags from sparse and neighbours (the MLP scores clusters only).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from so_assets.models.base import Scores, TagModel, Target, TrainResult
from so_assets.models.data import Inputs, TrainingData
from so_assets.models.dense import TorchDense
from so_assets.models.linear import TfidfLinear
from so_assets.models.neighbours import KnnVotes

STEP = 0.1


def simplex(parts: int) -> list[tuple[float, ...]]:
    """Every weighting of ``parts`` sources in steps of 0.1 that sums to 1."""
    steps = round(1 / STEP)

    def compositions(n: int, total: int) -> list[tuple[int, ...]]:
        if n == 1:
            return [(total,)]
        return [(i, *rest) for i in range(total + 1) for rest in compositions(n - 1, total - i)]

    return [tuple(round(c * STEP, 2) for c in combo) for combo in compositions(parts, steps)]


def best_mix(truth: np.ndarray, sources: list[np.ndarray]) -> tuple[tuple[float, ...], float]:
    """The simplex weighting of ``sources`` with the best validation micro-F1 (at its best
    global threshold); ties go to the most even weighting."""
    from so_assets.models.thresholds import best_global_threshold

    scored = [(best_global_threshold(truth, sum(w * s for w, s in zip(weights, sources,
                                                                       strict=True)))[1],
               -float(np.std(weights)), weights) for weights in simplex(len(sources))]
    f1, _, weights = max(scored)
    return weights, f1


def mixed(weights: tuple[float, ...], sources: list[np.ndarray]) -> np.ndarray:
    return sum(w * s for w, s in zip(weights, sources, strict=True)).astype(np.float32)


class HybridFusion(TagModel):
    family = "hybrid_fusion"
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    engine = "pytorch"

    def _parts(self) -> tuple[TfidfLinear, TorchDense, KnnVotes]:
        sparse = TfidfLinear(self.labels, self.params.get("sparse", {}))
        dense = TorchDense(self.labels, self.params.get("dense", {"network": "mlp"}))
        return sparse, dense, KnnVotes(self.labels, self.params.get("neighbours", {}))

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        self.sparse, self.dense, self.neighbours = self._parts()
        self.sparse.fit(data)
        self.neighbours.fit(data)
        result = self.dense.fit(data, checkpoint=checkpoint, log=log)
        sparse, votes = (self.sparse.predict_scores(data.validation),
                         self.neighbours.predict_scores(data.validation))
        dense = self.dense.predict_scores(data.validation).clusters
        self.cluster_weights, cluster_f1 = best_mix(data.validation.clusters,
                                                    [sparse.clusters, dense, votes.clusters])
        self.tag_weights, tag_f1 = best_mix(data.validation.tags, [sparse.tags, votes.tags])
        if log:
            log.info("hybrid: clusters = %s x (sparse, MLP, neighbours) (validation micro-F1 "
                     "%.4f); tags = %s x (sparse, neighbours) (%.4f)", self.cluster_weights,
                     cluster_f1, self.tag_weights, tag_f1)
        return result

    def predict_scores(self, inputs: Inputs) -> Scores:
        sparse = self.sparse.predict_scores(inputs)
        votes = self.neighbours.predict_scores(inputs)
        dense = self.dense.predict_scores(inputs).clusters
        return Scores(clusters=mixed(self.cluster_weights, [sparse.clusters, dense,
                                                            votes.clusters]),
                      tags=mixed(self.tag_weights, [sparse.tags, votes.tags]))

    def saved_meta(self) -> dict:
        return {**super().saved_meta(), "cluster_weights": self.cluster_weights,
                "tag_weights": self.tag_weights}

    def restore_meta(self, directory: Path, meta: dict) -> None:
        super().restore_meta(directory, meta)
        self.cluster_weights = tuple(meta["cluster_weights"])
        self.tag_weights = tuple(meta["tag_weights"])

    def save_state(self, directory: Path) -> None:
        for name, part in (("sparse", self.sparse), ("dense", self.dense),
                           ("neighbours", self.neighbours)):
            (directory / name).mkdir(exist_ok=True)
            part.save_state(directory / name)

    def load_state(self, directory: Path) -> None:
        self.sparse, self.dense, self.neighbours = self._parts()
        self.sparse.load_state(directory / "sparse")
        self.dense.load_state(directory / "dense")
        self.neighbours.load_state(directory / "neighbours")
