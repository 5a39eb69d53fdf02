"""A second stage over (question, label) pairs: what the first-stage models say about a label,
where the label ranks for the question, how common it is, and whether the question names it,
turned into one probability by one model shared by every label: gradient-boosted trees
(:class:`BoostedPairStacker`) or a logistic regression (:class:`LogisticPairStacker`).

Tags are stacked over each question's candidates only (:func:`tag_candidates`: the first
stage's best tags and the tags the question names), as the ranker of XR-Linear works over the
labels its tree search returns: the pairs then grow with questions, not with questions x tag
labels (8,000 questions x 15,000 tags x 11 features would be 5 GB), and the stacker learns
to tell apart the tags that are close calls instead of the thousands that are plainly absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from so_assets.evaluation.tag_metrics import top_columns

CLUSTER_FEATURES = ("sparse logit", "neighbour votes", "dense logit", "tags named in title",
                    "tags named in body", "log prior", "log sparse rank",
                    "log neighbour rank", "log dense rank", "best member tag (sparse)",
                    "question's top sparse score", "best member tag (stacked)",
                    "any member tag (stacked, noisy-or)")
TAG_FEATURES = ("sparse logit", "neighbour votes", "named in title", "named in body",
                "log prior", "log sparse rank", "log neighbour rank", "its cluster (sparse)",
                "its cluster (dense)", "question's top sparse score", "tags named in title")


@dataclass(frozen=True)
class FirstStage:
    """The first-stage scores of a batch of questions, and the kept tags each one names."""

    sparse_clusters: np.ndarray  # [n, k]
    sparse_tags: np.ndarray  # [n, t]
    neighbour_clusters: np.ndarray  # [n, k]
    neighbour_tags: np.ndarray  # [n, t]
    dense_clusters: np.ndarray  # [n, k]
    named_in_title: np.ndarray  # [n, t] {0, 1}
    named_in_body: np.ndarray  # [n, t] {0, 1}


@dataclass(frozen=True)
class StackerInputs:
    """What the stackers learn from, for n questions, without a [n, tag labels] array: each
    question's candidate (question, tag) pairs with their features, and the first stage's
    features of every (question, cluster) pair."""

    questions: np.ndarray  # [pairs] the pair's question (0 .. n-1), in ascending order
    tags: np.ndarray  # [pairs] the pair's tag column
    pair_features: np.ndarray  # [pairs, len(TAG_FEATURES)]
    cluster_features: np.ndarray  # [n, k, len(CLUSTER_FEATURES) - 2]

    def stacked_tags(self, pair_scores: np.ndarray, rows: slice, n_tags: int) -> np.ndarray:
        """[rows, n_tags]: ``pair_scores`` (one per pair) of the questions at ``rows``, 0 for
        the tags that are not their candidates."""
        lo, hi = np.searchsorted(self.questions, [rows.start, rows.stop])
        stacked = np.zeros((rows.stop - rows.start, n_tags), np.float32)
        stacked[self.questions[lo:hi] - rows.start, self.tags[lo:hi]] = pair_scores[lo:hi]
        return stacked


CANDIDATES = 30
"""A question's best tags under each first-stage model that become stacked candidates."""


def tag_candidates(first: FirstStage, depth: int = CANDIDATES) -> np.ndarray:
    """[n, t] bool: the ``depth`` best tags under the TF-IDF scores and under the neighbour
    votes (those with a vote), and every tag the question names."""
    candidates = (first.named_in_title > 0) | (first.named_in_body > 0)
    for scores, floor in ((first.sparse_tags, -np.inf), (first.neighbour_tags, 0.0)):
        if depth >= scores.shape[1]:
            candidates |= scores > floor
            continue
        best = top_columns(scores, depth)
        chosen = np.zeros_like(candidates)
        np.put_along_axis(chosen, best, np.take_along_axis(scores, best, 1) > floor, 1)
        candidates |= chosen
    return candidates


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-5, 1 - 1e-5)
    return np.log(p / (1 - p))


def log_ranks(scores: np.ndarray) -> np.ndarray:
    """log(1 + rank) of every label within its question (0 = the top label)."""
    order = np.argsort(-scores, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :], axis=1)
    return np.log1p(ranks).astype(np.float32)


def _stack(columns: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    return np.stack([np.broadcast_to(np.asarray(c, np.float32), shape) for c in columns], -1)


def best_member(tag_scores: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """[n, k]: the highest score among each cluster's tags (0 for a cluster without one;
    scores are probabilities, >= 0), a cluster's columns at a time: a [n, tags, clusters]
    product would take 9 GB at 8,000 questions x 5,451 tags x 54 clusters."""
    best = np.zeros((len(tag_scores), membership.shape[1]), np.float32)
    for cluster in range(membership.shape[1]):
        members = np.flatnonzero(membership[:, cluster])
        if len(members):
            best[:, cluster] = tag_scores[:, members].max(1)
    return best


def cluster_features(first: FirstStage, stacked_tags: np.ndarray, membership: np.ndarray,
                     log_prior: np.ndarray) -> np.ndarray:
    """[n, k, len(CLUSTER_FEATURES)]; ``stacked_tags`` [n, t] are the tag stacker's scores,
    ``membership`` is [t, k] {0, 1}."""
    return np.concatenate([first_stage_cluster_features(first, membership, log_prior),
                           stacked_cluster_features(stacked_tags, membership)], -1)


def first_stage_cluster_features(first: FirstStage, membership: np.ndarray,
                                 log_prior: np.ndarray) -> np.ndarray:
    """[n, k, len(CLUSTER_FEATURES) - 2]: the cluster features the first stage gives alone."""
    return _stack([logit(first.sparse_clusters), first.neighbour_clusters,
                   logit(first.dense_clusters), first.named_in_title @ membership,
                   first.named_in_body @ membership, log_prior[None, :],
                   log_ranks(first.sparse_clusters), log_ranks(first.neighbour_clusters),
                   log_ranks(first.dense_clusters), best_member(first.sparse_tags, membership),
                   first.sparse_clusters.max(1, keepdims=True)], first.sparse_clusters.shape)


def stacked_cluster_features(stacked_tags: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """[n, k, 2]: the cluster features read from the tag stacker's scores ``stacked_tags``
    [n, t] (its best member tag, and the chance that any member tag is on, noisy-or)."""
    none_of_members = np.exp(np.log1p(-np.clip(stacked_tags, 0, 1 - 1e-6)) @ membership)
    return _stack([best_member(stacked_tags, membership), 1 - none_of_members],
                  (len(stacked_tags), membership.shape[1]))


def pair_tag_features(first: FirstStage, candidates: np.ndarray, tag_cluster: np.ndarray,
                      log_prior: np.ndarray) -> np.ndarray:
    """[pairs, len(TAG_FEATURES)]: the features of each candidate (question, tag) pair of
    ``candidates`` [n, t] bool, in the order of ``np.nonzero(candidates)``; ``tag_cluster``
    [t] is each tag's cluster. The [n, t] scores are read at the pairs only."""
    rows, tags = np.nonzero(candidates)
    sparse, votes = first.sparse_tags[rows, tags], first.neighbour_tags[rows, tags]
    cluster = tag_cluster[tags]
    return np.stack([logit(sparse), votes, first.named_in_title[rows, tags],
                     first.named_in_body[rows, tags], log_prior[tags],
                     np.log1p(mean_ranks(first.sparse_tags, rows, sparse)),
                     np.log1p(mean_ranks(first.neighbour_tags, rows, votes)),
                     first.sparse_clusters[rows, cluster], first.dense_clusters[rows, cluster],
                     first.sparse_tags.max(1)[rows], first.named_in_title.sum(1)[rows]],
                    -1).astype(np.float32)


def mean_ranks(scores: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """[pairs]: the rank of ``values[i]`` among the labels of question ``rows[i]`` (0 = its
    best; ``rows`` ascending, as ``np.nonzero`` gives them); tied labels share their mean rank,
    so the thousands a neighbour vote leaves at 0 rank together below the voted ones. A sort
    per question, not an argsort: ten times cheaper at 15,000 labels."""
    ordered = np.sort(scores, axis=1)
    ranks = np.empty(len(rows), np.float32)
    bounds = np.searchsorted(rows, np.arange(len(scores) + 1))
    for question, (lo, hi) in enumerate(pairwise(bounds)):
        below = np.searchsorted(ordered[question], values[lo:hi], side="left")
        not_above = np.searchsorted(ordered[question], values[lo:hi], side="right")
        ranks[lo:hi] = scores.shape[1] - not_above + (not_above - below - 1) / 2
    return ranks


class PairStacker(Protocol):
    """A second stage shared by every label: (question, label) pair features in, one
    probability per pair out."""

    def scores(self, features: np.ndarray) -> np.ndarray:
        """[..., f] features -> [...] probabilities."""
        ...

    def to_json(self, names: Sequence[str]) -> dict:
        """What it learned, readable, by feature name (``kind`` says which stacker)."""
        ...

    def save(self, path: Path) -> None:
        """Its state beyond :meth:`to_json`, at ``path`` (nothing for the logistic one)."""
        ...


@dataclass(frozen=True)
class BoostedShape:
    """The boosted stacker's trees."""

    trees: int
    depth: int
    learning_rate: float


def fit_stacker(kind: str, features: np.ndarray, truth: np.ndarray,
                shape: BoostedShape) -> PairStacker:
    """A ``kind`` stacker (``logistic`` or ``boosted``) fitted on ``features`` [..., f] and
    ``truth`` [...] {0, 1}."""
    if kind == "boosted":
        return BoostedPairStacker.fit(features, truth, shape)
    return LogisticPairStacker.fit(features, truth)


def load_stacker(saved: dict, path: Path) -> PairStacker:
    """The stacker whose :meth:`PairStacker.to_json` is ``saved`` and whose state (when it has
    one) is at ``path``; a model saved before stackers had a kind is logistic."""
    if saved.get("kind") == "boosted":
        return BoostedPairStacker.load(path)
    return LogisticPairStacker.from_json(saved)


@dataclass
class LogisticPairStacker:
    """Logistic regression on standardised pair features."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, features: np.ndarray, truth: np.ndarray, c: float = 1.0
            ) -> LogisticPairStacker:
        """``features`` [..., f], ``truth`` [...] {0, 1}."""
        from sklearn.linear_model import LogisticRegression

        x = features.reshape(-1, features.shape[-1])
        mean, scale = x.mean(0), np.maximum(x.std(0), 1e-6)
        model = LogisticRegression(C=c, max_iter=1000)
        model.fit((x - mean) / scale, truth.reshape(-1))
        return cls(mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))

    def scores(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return (1 / (1 + np.exp(-z))).astype(np.float32)

    def to_json(self, names: Sequence[str]) -> dict:
        """Its parameters, each coefficient under its feature's name (standardised scale)."""
        return {"kind": "logistic", "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": dict(zip(names, self.coef.tolist(), strict=True)),
                "intercept": self.intercept}

    def save(self, path: Path) -> None:
        return None

    @classmethod
    def from_json(cls, saved: dict) -> LogisticPairStacker:
        return cls(np.array(saved["mean"], np.float32), np.array(saved["scale"], np.float32),
                   np.array(list(saved["coef"].values())), float(saved["intercept"]))


BOOSTED_MIN_CHILD_WEIGHT = 20.0
"""Hessian mass a leaf needs: with probabilities near 0 or 1 a leaf needs many pairs, so a
tree cannot carve out a handful of questions."""


@dataclass
class BoostedPairStacker:
    """Gradient-boosted trees (xgboost ``hist``) on the pair features: a rank only counts
    with the score beside it, a named tag matters more for a rare tag; a logistic regression
    adds such effects up, trees can split on them. Rows and features are subsampled (0.8) with
    a fixed seed, so a fit is repeatable."""

    booster: Any  # xgboost.Booster

    @classmethod
    def fit(cls, features: np.ndarray, truth: np.ndarray, shape: BoostedShape
            ) -> BoostedPairStacker:
        """``features`` [..., f], ``truth`` [...] {0, 1}."""
        import xgboost as xgb

        x = features.reshape(-1, features.shape[-1])
        booster = xgb.train({"objective": "binary:logistic", "tree_method": "hist",
                             "max_depth": shape.depth, "eta": shape.learning_rate,
                             "min_child_weight": BOOSTED_MIN_CHILD_WEIGHT,
                             "subsample": 0.8, "colsample_bytree": 0.8, "seed": 0},
                            xgb.DMatrix(x, label=truth.reshape(-1)),
                            num_boost_round=shape.trees)
        return cls(booster)

    def scores(self, features: np.ndarray) -> np.ndarray:
        x = features.reshape(-1, features.shape[-1])
        if not len(x):
            return np.zeros(features.shape[:-1], np.float32)
        return self.booster.inplace_predict(x).astype(np.float32).reshape(features.shape[:-1])

    def to_json(self, names: Sequence[str]) -> dict:
        """The trees' shape and each feature's share of the trees' total gain."""
        gain = self.booster.get_score(importance_type="total_gain")
        total = sum(gain.values()) or 1.0
        return {"kind": "boosted", "trees": self.booster.num_boosted_rounds(),
                "gain_share": {name: round(gain.get(f"f{i}", 0.0) / total, 4)
                               for i, name in enumerate(names)}}

    def save(self, path: Path) -> None:
        """The trees as xgboost's JSON (data, not a pickle)."""
        self.booster.save_model(path)

    @classmethod
    def load(cls, path: Path) -> BoostedPairStacker:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(path)
        return cls(booster)
