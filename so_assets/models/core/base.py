"""The one model contract every family implements, for tags and for scores.

A model says with class attributes what it needs beyond the title and body vectors
(:class:`Need`) and what it predicts (:class:`Target`); the pipeline reads those to wire its
inputs and its asset, so adding a model is one class plus one registry entry.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from so_assets.models.core.data import LabelSpace, SplitData, TrainingData
from so_assets.models.core.target import signed_expm1, signed_log1p
from so_assets.models.core.thresholds import (
    apply_thresholds,
    best_global_threshold,
    choose_thresholds,
)
from so_assets.models.publication.shared_parts import load_part, save_part
from so_assets.params import Params, param

if TYPE_CHECKING:
    from so_assets.models.core.data import Inputs


class Need(StrEnum):
    """Inputs beyond the texts and their title / body vectors."""

    TOKENS = "tokens"  # the 4 + 32 segment sequences (question_token_embeddings)
    TAG_VECTORS = "tag_vectors"  # the kept tags' vectors (tag_embeddings)
    TREE = "tree"  # the depth-1 cluster means and tag paths (tag_tree)


class Target(StrEnum):
    CLUSTERS = "clusters"  # the depth-1 label clusters
    TAGS = "tags"  # the kept tags
    SCORE = "score"  # the question's score


@dataclass
class Scores:
    """What a model gives for a batch of questions: probabilities per cluster and per kept tag
    (tag models), or a predicted score (score models)."""

    clusters: np.ndarray | None = None  # [n, k]
    tags: np.ndarray | None = None  # [n, t]
    score: np.ndarray | None = None  # [n] on the raw scale
    score_low: np.ndarray | None = None  # [n] an interval, for models that give one
    score_high: np.ndarray | None = None


@dataclass(frozen=True)
class NoParams(Params):
    """A family with nothing to set."""


@dataclass(frozen=True)
class ScoreParams(Params):
    """What every score family takes: the target it learns."""

    target: Literal["log", "raw"] = param(
        "log", "What the model learns: 'log' (sign(s)·log1p(|s|)) or the 'raw' score.")


@dataclass
class TrainResult:
    """How fitting went: per-epoch history for iterative models, empty otherwise."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = float("nan")
    seconds: float = 0.0


class Model(ABC):
    """Base of every family: fit, scores, save and load."""

    family: ClassVar[str]
    """Registry key saved with the artifacts, so a folder loads as the class that wrote it."""
    needs: ClassVar[frozenset[Need]] = frozenset()
    predicts: ClassVar[frozenset[Target]]
    engine: ClassVar[str] = "numpy"
    """What it runs on (shown as the asset's kind): pytorch, scikitlearn, xgboost, numpy."""
    selection_metric: ClassVar[str]
    """The validation figure that ranks models of this task and the baseline check uses."""
    baseline_name: ClassVar[str]
    """The naive model of this task every model must beat (names the check)."""

    params_class: ClassVar[type[Params]] = NoParams
    """The family's parameters (see :mod:`so_assets.params`)."""
    shares_state: ClassVar[bool] = False
    """Whether its learned state is stored once for every model trained on the same inputs
    (see :mod:`so_assets.models.publication.shared_parts`): the parts ``hybrid`` also stacks."""

    def __init__(self, labels: LabelSpace, params: Params | None = None) -> None:
        if params is not None and not isinstance(params, self.params_class):
            raise TypeError(f"{self.family} takes {self.params_class.__name__}, not "
                            f"{type(params).__name__}")
        self.labels = labels
        self.params = params if params is not None else self.params_class()
        self.shared_key: str | None = None
        """The shared part holding this model's state, when it is one."""
        self.shared_dir: Path | None = None
        """Where shared parts are stored (set by the trainer; None: nothing is shared)."""

    @abstractmethod
    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        """Learn from ``data.train`` (``data.validation`` only to stop or select)."""

    @abstractmethod
    def predict_scores(self, inputs: Inputs) -> Scores:
        """Scores for every question of ``inputs``."""

    def calibrate(self, validation: SplitData) -> None:
        """Tune decisions on the validation split (nothing to tune by default)."""
        return None

    @abstractmethod
    def selection_value(self, split: SplitData, scores: Scores) -> float:
        """The validation figure early stopping maximises (higher is better)."""

    def selection_noise(self, split: SplitData) -> float:
        """How far :meth:`selection_value` moves by chance on a split this size: gains
        below it do not count as progress for early stopping (0: every gain counts)."""
        return 0.0

    @abstractmethod
    def evaluate(self, split: SplitData, scores: Scores | None = None) -> dict[str, float]:
        """This task's metrics on a labelled split (scores computed when not given)."""

    @classmethod
    def beats(cls, ours: float, baseline: float) -> bool:
        """Whether a selection-metric value is better than the baseline's."""
        return ours > baseline

    # -- persistence: families store their state; the base stores what it knows
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "predictor.json").write_text(json.dumps(
            {"family": self.family, "params": self.params.to_dict(),
             "labels": self.labels.to_json(),
             **self.saved_meta()}, indent=1))
        save_part(self, directory)

    def saved_meta(self) -> dict:
        return {}

    def restore_meta(self, directory: Path, meta: dict) -> None:
        """Read back what :meth:`saved_meta` wrote (nothing by default)."""
        return None

    @abstractmethod
    def save_state(self, directory: Path) -> None: ...

    @abstractmethod
    def load_state(self, directory: Path) -> None: ...

    @classmethod
    def restore(cls, directory: Path, meta: dict) -> Model:
        try:
            params = cls.params_class.from_dict(meta["params"])
        except ValueError as error:
            raise ValueError(f"{directory}: {error}") from None
        model = cls(LabelSpace.from_json(meta["labels"]), params)
        model.restore_meta(directory, meta)
        load_part(model, directory)
        return model


class TagModel(Model):
    """A multi-label tag predictor: cluster scores (and kept-tag scores when it predicts tags),
    turned into decisions by thresholds tuned on validation."""

    predicts = frozenset({Target.CLUSTERS})
    selection_metric = "micro_f1"
    baseline_name = "most_frequent"

    def __init__(self, labels: LabelSpace, params: Params | None = None) -> None:
        super().__init__(labels, params)
        self.cluster_thresholds = np.full(labels.n_clusters, 0.5, dtype=np.float32)
        self.tag_thresholds = np.full(labels.n_tags, 0.5, dtype=np.float32)
        self.threshold_rule = "0.5 (not tuned)"
        self.tag_threshold_rule = ""
        self.global_thresholds = {"clusters": 0.5, "tags": 0.5}
        """The best single threshold on validation, kept to show what the chosen rule gains
        or loses against it on test."""

    def held_out_scores(self, split: SplitData) -> Scores:
        """Scores of a labelled split as for questions the model never learned from: those
        of :meth:`predict_scores`, unless the model fitted something on this very split."""
        return self.predict_scores(split)

    def calibrate(self, validation: SplitData, scores: Scores | None = None) -> None:
        """Thresholds tuned on validation, from ``scores`` when given (the split's
        :meth:`held_out_scores`, computed once by a caller that evaluates them too)."""
        scores = scores or self.held_out_scores(validation)
        self.cluster_thresholds, self.threshold_rule = choose_thresholds(
            validation.clusters, scores.clusters)
        self.global_thresholds["clusters"] = best_global_threshold(validation.clusters,
                                                                   scores.clusters)[0]
        if scores.tags is not None:
            truth = validation.tag_matrix()
            self.tag_thresholds, self.tag_threshold_rule = choose_thresholds(truth, scores.tags)
            self.global_thresholds["tags"] = best_global_threshold(truth, scores.tags)[0]

    def selection_value(self, split: SplitData, scores: Scores) -> float:
        """Validation micro-F1 of the clusters at the best global threshold."""
        return best_global_threshold(split.clusters, scores.clusters)[1]

    def selection_noise(self, split: SplitData) -> float:
        """0.5 / sqrt(the split's cluster labels): the largest standard error of a share
        estimated from that many labels (0.024 for 420 labels, 0.007 for 5,000)."""
        return 0.5 / np.sqrt(max(float(split.clusters.sum()), 1.0))

    def decide(self, scores: Scores) -> tuple[np.ndarray, np.ndarray | None]:
        """Cluster decisions, and kept-tag decisions when the model scores tags."""
        clusters = apply_thresholds(scores.clusters, self.cluster_thresholds)
        tags = None if scores.tags is None else apply_thresholds(scores.tags,
                                                                 self.tag_thresholds)
        return clusters, tags

    def evaluate(self, split: SplitData, scores: Scores | None = None) -> dict[str, float]:
        from so_assets.evaluation.tag_metrics import multilabel_metrics

        scores = scores or self.held_out_scores(split)
        clusters, tags = self.decide(scores)
        metrics = multilabel_metrics(split.clusters, scores.clusters, clusters)
        if tags is not None:
            metrics |= {f"tags_{k}": v for k, v in
                        multilabel_metrics(split.tag_matrix(), scores.tags, tags).items()}
        return metrics

    def saved_meta(self) -> dict:
        return {"threshold_rule": self.threshold_rule,
                "tag_threshold_rule": self.tag_threshold_rule,
                "global_thresholds": self.global_thresholds}

    def restore_meta(self, directory: Path, meta: dict) -> None:
        self.threshold_rule = meta["threshold_rule"]
        self.tag_threshold_rule = meta["tag_threshold_rule"]
        self.global_thresholds = meta.get("global_thresholds", self.global_thresholds)
        self.cluster_thresholds = np.load(directory / "cluster_thresholds.npy")
        self.tag_thresholds = np.load(directory / "tag_thresholds.npy")

    def save(self, directory: Path) -> None:
        super().save(directory)
        np.save(directory / "cluster_thresholds.npy", self.cluster_thresholds)
        np.save(directory / "tag_thresholds.npy", self.tag_thresholds)


class ScoreModel(Model):
    """A score regressor: it learns ``params.target`` (``log``: sign(s)·log1p(|s|), the
    default; ``raw``: the score itself) and predicts on the raw scale. Questions whose source
    has no scores (NaN) are left out of fitting and of its metrics."""

    predicts = frozenset({Target.SCORE})
    selection_metric = "rmse_target"
    baseline_name = "mean"
    params_class: ClassVar[type[Params]] = ScoreParams
    params: ScoreParams

    def __init__(self, labels: LabelSpace, params: Params | None = None) -> None:
        super().__init__(labels, params)
        self.recalibration = (0.0, 1.0)
        """(intercept, slope) applied to the target-scale prediction, fitted on validation."""
        self.score_range: tuple[float, float] | None = None
        """The lowest and highest training score: predictions stay inside it (a linear
        feature such as the horizon is never extrapolated to scores no question had)."""

    def remember_range(self, train: SplitData) -> None:
        """Record the training scores' range (see :attr:`score_range`)."""
        scores = self.scored(train).scores
        self.score_range = (float(scores.min()), float(scores.max()))

    @property
    def target(self) -> str:
        return self.params.target

    def to_target(self, scores: np.ndarray) -> np.ndarray:
        return signed_log1p(scores) if self.target == "log" else np.asarray(scores, float)

    def from_target(self, values: np.ndarray, recalibrate: bool = True) -> np.ndarray:
        """Raw scores from target-scale predictions, through the validation recalibration
        (unless ``recalibrate`` is False)."""
        intercept, slope = self.recalibration if recalibrate else (0.0, 1.0)
        values = intercept + slope * np.asarray(values, float)
        raw = signed_expm1(values) if self.target == "log" else values
        return raw if self.score_range is None else np.clip(raw, *self.score_range)

    def calibrate(self, validation: SplitData) -> None:
        """Fit ``target ≈ a + b·prediction`` on validation, with the slope b kept in [0, 1]:
        where a model's signal is weak (scores barely predictable from what is known at
        posting time), its predictions are shrunk toward the mean instead of adding noise;
        a slope of 1 and intercept 0 leave a well-calibrated model as it is."""
        split = self.scored(validation)
        self.recalibration = (0.0, 1.0)
        predicted = self.to_target(self.predict_scores(split).score)
        actual = self.to_target(split.scores)
        spread = float(np.var(predicted))
        slope = float(np.cov(predicted, actual, bias=True)[0, 1] / spread) if spread > 0 else 0.0
        slope = min(max(slope, 0.0), 1.0)
        self.recalibration = (float(actual.mean() - slope * predicted.mean()), slope)

    def saved_meta(self) -> dict:
        return {"recalibration": list(self.recalibration),
                "score_range": list(self.score_range) if self.score_range else None}

    def restore_meta(self, directory: Path, meta: dict) -> None:
        self.recalibration = tuple(meta.get("recalibration", (0.0, 1.0)))
        saved = meta.get("score_range")
        self.score_range = (float(saved[0]), float(saved[1])) if saved else None

    def feature_importance(self) -> dict[str, float] | None:
        """What the model leans on, by feature group, for models that can say (else None)."""
        return None

    def scored_data(self, data: TrainingData) -> TrainingData:
        """``data`` with only the questions that have a score in train and validation."""
        return dataclasses.replace(data, train=self.scored(data.train),
                                   validation=self.scored(data.validation))

    @staticmethod
    def scored(split: SplitData) -> SplitData:
        """The questions of ``split`` that have a score; an error when none has."""
        if split.scores is None or not np.isfinite(split.scores).any():
            raise ValueError("no question here has a score (the source gives none, e.g. an "
                             "id,title,content,tags CSV): score models cannot be trained")
        return split.subset(np.isfinite(split.scores))

    @classmethod
    def beats(cls, ours: float, baseline: float) -> bool:
        return ours < baseline  # an error: lower is better

    def selection_value(self, split: SplitData, scores: Scores) -> float:
        error = self.to_target(scores.score) - self.to_target(split.scores)
        return -float(np.sqrt(np.mean(error ** 2)))

    def evaluate(self, split: SplitData, scores: Scores | None = None) -> dict[str, float]:
        from so_assets.evaluation.score_metrics import regression_metrics

        if scores is None:
            split = self.scored(split)
            scores = self.predict_scores(split)
        metrics = regression_metrics(split.scores, scores.score)
        metrics["rmse_target"] = metrics["rmse_log" if self.target == "log" else "rmse"]
        return metrics
