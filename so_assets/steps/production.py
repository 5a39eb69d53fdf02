"""production_models: after each retrain, which tag model and which score model serve, by the
rule of :mod:`so_assets.models.publication.production`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from so_assets.evaluation.report import Table
from so_assets.models.core.base import Target
from so_assets.models.core.data import LabelSpace
from so_assets.models.publication.artifacts import current_dir, published_models, version_path
from so_assets.models.publication.production import (
    Candidate,
    Production,
    choose,
    decision,
    production_history,
    read_production,
    record_production,
)
from so_assets.models.registry import (
    SCORE_MODELS,
    TAG_MODELS,
    ModelSpec,
    is_baseline,
    saved_labels,
)
from so_assets.storage.stores import Stores

SELECTION = {"tag": ("tags_micro_f1", True), "score": ("rmse_log", False)}
"""Each task's ranking figure on validation and whether higher is better: kept-tag micro-F1
(what a suggestion shows), and RMSE on the log scale whatever target a score model learned (so
their figures are comparable)."""


@dataclass(frozen=True)
class ProductionResult:
    """What serves after this decision, and whether it may (the blocking check)."""

    tag_model: str
    tag_version: str
    tag_reason: str
    score_model: str
    score_version: str
    score_reason: str
    serving_beats_baseline: bool
    """Every task that has a model serves one that beats its baseline on validation."""
    candidates: Table
    history: Table
    record: Path


def _candidate(task: str, spec: ModelSpec, folder: Path, metrics: dict, baseline: float,
               current_labels: LabelSpace) -> Candidate:
    metric, higher = SELECTION[task]
    return Candidate(task, spec.name, spec.asset_name, folder.name,
                     float(metrics["validation"][metric]), baseline, higher,
                     str(metrics.get("train_cutoff", "")),
                     saved_labels(folder) == current_labels, bool(metrics["beats_baseline"]))


def _baseline_figure(task: str, stores: Stores, metrics: dict) -> float:
    """The naive baseline's validation figure (clusters' micro-F1 for tags, what the check
    compares; RMSE on the log scale for scores)."""
    if task == "tag":
        return float(metrics["baseline_validation"])
    mean = next(s for s in SCORE_MODELS if is_baseline(s))
    saved = json.loads((current_dir(stores.models_dir, mean.asset_name) / "metrics.json"
                        ).read_text())
    return float(saved["validation"][SELECTION["score"][0]])


def _candidates(task: str, stores: Stores, current_labels: LabelSpace) -> list[Candidate]:
    specs = TAG_MODELS if task == "tag" else SCORE_MODELS
    published = set(published_models(stores.models_dir))
    found = []
    for spec in specs:
        if spec.asset_name not in published or is_baseline(spec) or (
                task == "tag" and Target.TAGS not in spec.model.predicts):
            continue
        folder = current_dir(stores.models_dir, spec.asset_name)
        metrics = json.loads((folder / "metrics.json").read_text())
        found.append(_candidate(task, spec, folder, metrics,
                                _baseline_figure(task, stores, metrics), current_labels))
    return found


def _champion(task: str, stores: Stores, serving: Production | None,
              candidates: list[Candidate], current_labels: LabelSpace,
              log: logging.Logger) -> Candidate | None:
    """The serving version scored on the current validation split (its saved figures when
    it was trained on another label space, or when it is one of the candidates)."""
    if serving is None:
        return None
    same = [c for c in candidates if c.version == serving.version]
    if same:
        return same[0]
    try:
        folder = version_path(stores.models_dir, serving.asset, serving.version)
    except (FileNotFoundError, ValueError):
        log.warning("the serving %s model %s %s is gone from the models folder", task,
                    serving.name, serving.version)
        return None
    spec = next(s for s in (TAG_MODELS if task == "tag" else SCORE_MODELS)
                if s.asset_name == serving.asset)
    metrics = json.loads((folder / "metrics.json").read_text())
    candidate = _candidate(task, spec, folder, metrics, serving.baseline, current_labels)
    if not candidate.current_labels:
        return candidate
    from so_assets.models.prediction.assemble import assemble
    from so_assets.models.registry import load_model

    model = load_model(folder)
    data, _ = assemble(stores, model.needs)
    figure = model.evaluate(data.validation)[SELECTION[task][0]]
    log.info("the serving %s model %s scores %.4f on today's validation split (%.4f when "
             "trained)", task, serving.name, figure, candidate.validation)
    return replace(candidate, validation=float(figure))


def production_models(stores: Stores, log: logging.Logger) -> ProductionResult:
    """Choose and record the serving tag and score models (see the rule's module); a task
    whose best model fails its baseline keeps what served, or has nothing serving."""
    from so_assets.models.prediction.assemble import current_labels

    labels_now = current_labels(stores.questions)
    serving = read_production(stores.models_dir)
    table = Table(["task", "model", "version", "validation", "baseline", "eligible",
                   "current labels"], digits=4)
    decisions, reasons, chosen = [], {}, {}
    for task in ("tag", "score"):
        candidates = _candidates(task, stores, labels_now)
        for c in candidates:
            table.add(task, c.name, c.version, c.validation, c.baseline, c.eligible,
                      c.current_labels)
        if not candidates:
            reasons[task] = "no model of this task is published"
            continue
        champion = _champion(task, stores, serving.get(task), candidates, labels_now, log)
        winner, reason = choose(task, candidates, champion)
        reasons[task] = reason
        log.info("%s: %s", task, reason)
        if winner is None:
            continue
        chosen[task] = winner
        kept = serving.get(task)
        decisions.append(decision(winner, reason, kept.promoted_at if kept is not None
                                  and kept.version == winner.version else None))
    ok = all(c.beats_baseline for c in chosen.values()) and "tag" in chosen
    now = record_production(stores.models_dir, decisions) if ok else serving
    history = Table(["promoted at", "task", "model", "version", "validation", "reason"],
                    digits=4)
    for entry in production_history(stores.models_dir)[-20:]:
        history.add(entry.promoted_at, entry.task, entry.name, entry.version,
                    entry.validation, entry.reason)
    tag, score = now.get("tag"), now.get("score")
    return ProductionResult(tag.name if tag else "", tag.version if tag else "",
                            reasons.get("tag", ""), score.name if score else "",
                            score.version if score else "", reasons.get("score", ""), ok,
                            table, history, stores.models_dir / "_production.json")
