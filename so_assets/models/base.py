"""What every tag predictor shares: its inputs, thresholds, and saving into a folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from so_assets.models.data import LabelSpace, SplitData
from so_assets.models.thresholds import apply_thresholds, choose_thresholds
from so_assets.storage.embedding_store import EmbeddingStore


@dataclass
class Inputs:
    """Questions to score: texts, title/body vectors, and token sequences when a model needs
    them (``tokens``: title [n, 4, d], title_mask, body [n, 32, d], body_mask)."""

    titles: list[str]
    bodies: list[str]
    title_vectors: np.ndarray
    body_vectors: np.ndarray
    tokens: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.titles)


@dataclass
class TrainingData:
    """Everything a model may learn from; every model sees the same splits."""

    labels: LabelSpace
    train: SplitData
    validation: SplitData
    vectors: EmbeddingStore
    cluster_means: np.ndarray  # [k, d] depth-1 cluster mean directions
    tag_vectors: np.ndarray  # [t, d] kept tags' vectors

    def inputs(self, split: SplitData, tokens: dict[str, np.ndarray] | None = None) -> Inputs:
        return Inputs(split.titles, split.bodies, split.title_vectors, split.body_vectors,
                      tokens)


class Predictor:
    """Base of every model family: scores, tuned thresholds, save and load."""

    family: ClassVar[str] = ""
    predicts_tags: ClassVar[bool] = False
    needs_tokens: ClassVar[bool] = False

    def __init__(self, labels: LabelSpace, params: dict) -> None:
        self.labels = labels
        self.params = params
        self.cluster_thresholds = np.full(labels.n_clusters, 0.5, dtype=np.float32)
        self.tag_thresholds = np.full(labels.n_tags, 0.5, dtype=np.float32)
        self.threshold_rule = "0.5 (not tuned)"
        self.tag_threshold_rule = ""

    # -- scoring: families implement these
    def cluster_scores(self, inputs: Inputs) -> np.ndarray:
        raise NotImplementedError

    def tag_scores(self, inputs: Inputs) -> np.ndarray | None:
        return None

    # -- decisions
    def calibrate(self, inputs: Inputs, split: SplitData) -> None:
        """Tune the decision thresholds on validation scores."""
        self.cluster_thresholds, self.threshold_rule = choose_thresholds(
            split.clusters, self.cluster_scores(inputs))
        tags = self.tag_scores(inputs)
        if tags is not None:
            self.tag_thresholds, self.tag_threshold_rule = choose_thresholds(split.tags, tags)

    def predict_clusters(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
        scores = self.cluster_scores(inputs)
        return scores, apply_thresholds(scores, self.cluster_thresholds)

    # -- persistence
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "predictor.json").write_text(json.dumps({
            "family": self.family, "params": self.params, "labels": self.labels.to_json(),
            "threshold_rule": self.threshold_rule, "tag_threshold_rule": self.tag_threshold_rule,
        }, indent=1))
        np.save(directory / "cluster_thresholds.npy", self.cluster_thresholds)
        np.save(directory / "tag_thresholds.npy", self.tag_thresholds)
        self.save_state(directory)

    def save_state(self, directory: Path) -> None:
        raise NotImplementedError

    def load_state(self, directory: Path) -> None:
        raise NotImplementedError

    @classmethod
    def restore(cls, directory: Path, meta: dict) -> Predictor:
        predictor = cls(LabelSpace.from_json(meta["labels"]), meta["params"])
        predictor.cluster_thresholds = np.load(directory / "cluster_thresholds.npy")
        predictor.tag_thresholds = np.load(directory / "tag_thresholds.npy")
        predictor.threshold_rule = meta["threshold_rule"]
        predictor.tag_threshold_rule = meta["tag_threshold_rule"]
        predictor.load_state(directory)
        return predictor
