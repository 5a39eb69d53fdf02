"""Train one registered model, tune its thresholds, and publish its artifacts atomically."""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import time
from pathlib import Path

import numpy as np

from so_assets.evaluation.plots import new_figure, save_png
from so_assets.evaluation.tag_metrics import multilabel_metrics
from so_assets.evaluation.tag_report import most_frequent_baseline
from so_assets.models.artifacts import new_version_dir, publish
from so_assets.models.base import Predictor, TrainingData
from so_assets.models.registry import ModelSpec
from so_assets.models.sequence import load_tokens
from so_assets.models.thresholds import apply_thresholds


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


def train_and_publish(spec: ModelSpec, data: TrainingData, models_dir: Path,
                      encoder_config: dict | None = None, log: logging.Logger | None = None
                      ) -> tuple[Predictor, dict]:
    """Fit, calibrate on validation, save into a new version folder, then publish it.

    ``encoder_config`` (the encoder the features came from) is saved beside the model so that
    prediction on new text embeds it the same way.
    """
    log = log or logging.getLogger(__name__)
    version = new_version_dir(models_dir, spec.name)
    predictor = spec.build(data.labels)
    reset_peak_rss()
    started = time.monotonic()
    if predictor.family in ("torch_dense", "sequence_dsf", "hierarchical", "hybrid_fusion"):
        result = predictor.fit(data, checkpoint=version / "best_checkpoint.pt", log=log)
        history = result.history
    else:
        predictor.fit(data)
        history = []
    train_seconds = time.monotonic() - started
    tokens = load_tokens(data, data.validation) if predictor.needs_tokens else None
    inputs = data.inputs(data.validation, tokens)
    predictor.calibrate(inputs, data.validation)
    scores, predicted = predictor.predict_clusters(inputs)
    validation = multilabel_metrics(data.validation.clusters, scores, predicted)
    baseline_scores, baseline_predicted = most_frequent_baseline(data.train, data.validation)
    baseline = multilabel_metrics(data.validation.clusters, baseline_scores, baseline_predicted)
    metrics = {
        "name": spec.name, "family": spec.family, "description": spec.description,
        "params": spec.params, "train_questions": len(data.train),
        "validation_questions": len(data.validation), "train_seconds": train_seconds,
        "peak_rss_mb": peak_rss_mb(), "threshold_rule": predictor.threshold_rule,
        "validation": validation, "history": history,
        "baseline_validation_micro_f1": baseline["micro_f1"],
    }
    tag_scores = predictor.tag_scores(inputs)
    if tag_scores is not None:
        metrics["validation_tags"] = multilabel_metrics(
            data.validation.tags, tag_scores,
            apply_thresholds(tag_scores, predictor.tag_thresholds))
    predictor.save(version)
    (version / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (version / "encoder.json").write_text(json.dumps(encoder_config or {}, indent=1))
    if history:
        plot_history(history, spec.name, version / "training_curve.png")
    publish(version)
    log.info("%s: validation micro-F1 %.4f, P@1 %.4f, %.0fs", spec.name,
             validation["micro_f1"], validation.get("P@1", float("nan")), train_seconds)
    return predictor, metrics


def plot_history(history: list[dict], name: str, path: Path) -> Path:
    fig, ax = new_figure()
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], color="#3b75af", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss")
    twin = ax.twinx()
    twin.plot(epochs, [h["val_micro_f1"] for h in history], color="#ef8636",
              label="validation micro-F1")
    twin.set_ylabel("validation micro-F1")
    best = int(np.argmax([h["val_micro_f1"] for h in history]))
    twin.axvline(epochs[best], color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"{name}: training curve (best epoch {epochs[best]})")
    fig.legend(loc="lower center", ncol=2, fontsize=8)
    return save_png(fig, path)
