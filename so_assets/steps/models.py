"""dataset_splits, one step that trains any registered model, and its baseline check."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from so_assets.embedding.config import EncoderConfig
from so_assets.models.publication.artifacts import current_dir, read_metrics
from so_assets.models.registry import ModelSpec
from so_assets.params import Params, param
from so_assets.steps.results import CheckOutcome
from so_assets.storage.datasets import labelled_sources
from so_assets.storage.splits import assign_splits
from so_assets.storage.stores import Stores

if TYPE_CHECKING:

    pass


@dataclass(frozen=True)
class SplitParams(Params):
    train_percent: int = param(80, "Share of content groups in the training split (%).", ge=1,
                               le=98)
    validation_percent: int = param(10, "Share in the validation split (%); the rest is test.",
                                    ge=1, le=98)
    holdout_days: int = param(0, "The newest days of questions held back from every split: "
                                 "they arrive after the models are trained, as new questions "
                                 "do, and are predicted and scored live (the bundled sample's "
                                 "run holds back 3).", ge=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.train_percent + self.validation_percent >= 100:
            raise ValueError(f"train_percent + validation_percent must leave a test split: "
                             f"{self.train_percent} + {self.validation_percent} >= 100")


@dataclass(frozen=True)
class SplitsResult:
    train: int
    validation: int
    test: int


def assign_dataset_splits(stores: Stores, params: SplitParams) -> SplitsResult:
    """Train / validation / test by md5 of each content group's smallest question id: stable as
    partitions arrive, and duplicates (same title and body) never straddle splits."""
    counts = assign_splits(stores.questions, params.train_percent, params.validation_percent,
                           params.holdout_days)
    return SplitsResult(counts.get("train", 0), counts.get("validation", 0),
                        counts.get("test", 0))


@dataclass(frozen=True)
class ModelResult:
    """A trained, published model: its validation figures against its baseline's."""

    selection_metric: str
    validation: float
    baseline_validation: float
    threshold_rule: str
    train_seconds: float
    peak_rss_mb: float
    train_questions: int
    artifacts: Path
    training_curve: Path | None


NO_SCORES = ("no labelled question has a score (the source gives none, e.g. an "
             "id,title,content,tags CSV): not trained")


def questions_have_scores(stores: Stores) -> bool:
    """Whether any labelled question comes from a source that gives scores."""
    from so_assets.stackexchange.sources import SOURCES

    return any(SOURCES[s].has_scores if s in SOURCES else True
               for s in labelled_sources(stores.questions))


def train_model(stores: Stores, spec: ModelSpec, encoder_config: EncoderConfig,
                log: logging.Logger) -> ModelResult:
    """Train ``spec`` on the current splits and publish it under ``models/<asset name>/``."""
    from so_assets.models.prediction.assemble import assemble
    from so_assets.models.publication.train import train_and_publish

    data, _ = assemble(stores, spec.model.needs)
    trained = train_and_publish(spec, data, stores.models_dir,
                                dataclasses.asdict(encoder_config), log)
    m = trained.metrics
    curve = trained.folder / "training_curve.png"
    return ModelResult(m["selection_metric"], m["validation"][m["selection_metric"]],
                       m["baseline_validation"], m["threshold_rule"],
                       round(m["train_seconds"], 2), round(m["peak_rss_mb"], 1),
                       m["train_questions"], current_dir(stores.models_dir, spec.asset_name),
                       curve if curve.exists() else None)


def beats_baseline(stores: Stores, spec: ModelSpec) -> CheckOutcome:
    """The published model's validation figure is better than its task's naive baseline (a
    score model on a source without scores has nothing to check, and says so)."""
    if spec.task == "score" and not questions_have_scores(stores):
        return CheckOutcome(True, {"status": NO_SCORES})
    metrics = read_metrics(stores.models_dir, spec.asset_name)
    metric = metrics["selection_metric"]
    ours, baseline = metrics["validation"][metric], metrics["baseline_validation"]
    return CheckOutcome(spec.model.beats(ours, baseline), {
        f"validation_{metric}": ours, f"{metrics['baseline']}_{metric}": baseline})
