"""Train one registered model, calibrate it on validation, and publish its artifacts
atomically, with its validation figures and its baseline's beside it."""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from so_assets.models.core.base import Model, ScoreModel, TagModel, TrainResult
from so_assets.models.core.data import TrainingData
from so_assets.models.publication.artifacts import new_version_dir, publish
from so_assets.models.publication.held_out import write_held_out_scores
from so_assets.models.publication.shared_parts import SHARED, fit_or_reuse
from so_assets.models.registry import ModelSpec, baseline_for


def reset_peak_rss() -> None:
    """Restart the kernel's peak-RSS counter (Linux: write 5 to /proc/self/clear_refs), so a
    model trained in a shared process reports its own peak; elsewhere this does nothing."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """Peak resident memory since the last reset (VmHWM), else since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb() -> float:
    """The whole process's peak resident memory, unaffected by :func:`reset_peak_rss`."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_cutoff(data: TrainingData) -> str:
    """The creation time of the newest question the model learned from (ISO, UTC): live
    quality counts only questions created after it."""
    dates = data.train.columns.get("creation_date")
    if dates is None or not len(dates):
        return ""
    return str(np.datetime_as_string(dates.max(), unit="s"))


@dataclass(frozen=True)
class TrainedModel:
    model: Model
    metrics: dict
    folder: Path


def train_and_publish(spec: ModelSpec, data: TrainingData, models_dir: Path,
                      encoder_config: dict | None = None, log: logging.Logger | None = None
                      ) -> TrainedModel:
    """Fit, calibrate on validation, save into a new version folder, then publish it.

    ``encoder_config`` (the encoder the features came from) is saved beside the model so that
    prediction on new text embeds it the same way.
    """
    from so_assets.evaluation.plots import training_curve

    log = log or logging.getLogger(__name__)
    version = new_version_dir(models_dir, spec.asset_name)
    model = spec.build(data.labels)
    reset_peak_rss()
    started = time.monotonic()
    model.shared_dir = models_dir / SHARED
    checkpoint = version / "best_checkpoint.pt"
    def fit() -> TrainResult:
        return model.fit(data, checkpoint=checkpoint, log=log)

    result = ((fit_or_reuse(model, data, model.shared_dir, fit, log) or TrainResult())
              if model.shares_state else fit())
    train_seconds = time.monotonic() - started
    if isinstance(model, ScoreModel):
        model.remember_range(data.train)
    if isinstance(model, TagModel):  # thresholds do not change the scores: score once
        held_out = model.held_out_scores(data.validation)
        model.calibrate(data.validation, held_out)
        validation = model.evaluate(data.validation, held_out)
        write_held_out_scores(version, data.validation.question_ids, held_out)
    else:  # recalibration changes a score model's predictions: evaluate after it
        model.calibrate(data.validation)
        validation = model.evaluate(data.validation)
    baseline = baseline_for(spec.model, data.labels, spec.params)
    baseline.fit(data)
    baseline_validation = baseline.evaluate(data.validation)
    metric = model.selection_metric
    metrics = {
        "name": spec.name, "asset": spec.asset_name, "family": model.family,
        "description": spec.description, "params": spec.params.to_dict(),
        "version": version.name, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "train_cutoff": train_cutoff(data),
        "train_questions": len(data.train), "validation_questions": len(data.validation),
        "train_seconds": train_seconds, "peak_rss_mb": peak_rss_mb(),
        "threshold_rule": getattr(model, "threshold_rule", ""),
        "selection_metric": metric, "validation": validation,
        "baseline": baseline.family, "baseline_validation": baseline_validation[metric],
        "beats_baseline": model.beats(validation[metric], baseline_validation[metric]),
        "history": result.history,
    }
    model.save(version)
    (version / "best_checkpoint.pt").unlink(missing_ok=True)  # saved whole above: a duplicate
    (version / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (version / "encoder.json").write_text(json.dumps(encoder_config or {}, indent=1))
    if result.history:
        training_curve(result.history, spec.name, f"validation {metric}",
                       version / "training_curve.png")
    publish(version)
    log.info("%s: validation %s %.4f (baseline %.4f), %.0fs", spec.asset_name, metric,
             validation[metric], baseline_validation[metric], train_seconds)
    return TrainedModel(model, metrics, version)
