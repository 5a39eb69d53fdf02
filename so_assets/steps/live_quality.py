"""live_tag_quality: each day's production predictions against the tags the askers gave,
prequentially (only questions created after the model's training cutoff), with the drift
figures the day's checks judge; and live_quality_report over the days."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from so_assets.evaluation.report import Table
from so_assets.steps.results import CheckOutcome, ReportResult, write_report
from so_assets.storage.datasets import question_counts, split_question_ids
from so_assets.storage.embedding_kinds import VECTORS
from so_assets.storage.predictions import (
    clear_days,
    day_tag_predictions,
    live_quality_rows,
    replace_day_rows,
)
from so_assets.storage.stores import Stores

if TYPE_CHECKING:
    from so_assets.models.core.data import LabelSpace, SplitData

ROLLING_DAYS = 7
QUALITY_MARGIN = {"warn": 0.05, "fail": 0.10}
"""Rolling 7-day micro-F1 this far below the model's own test figure warns, then fails:
five points is more than a week's sampling noise on a few hundred questions; ten is a model
that no longer fits what arrives."""
DRIFT_AUC = {"warn": 0.70, "fail": 0.80}
"""Domain-classifier AUC of the day's vectors against training's (see evaluation.drift): the
same site's new days measure 0.5 to 0.65; another site's questions measure above 0.9."""
UNSEEN_TAGS = {"warn": 0.15, "fail": 0.30}
"""Share of the day's distinct tags no training question carries."""
CHECKS = ("live_quality_holds", "no_input_drift", "few_unseen_tags")
REFERENCE_QUESTIONS = 2000  # training questions the drift classifier compares against


@dataclass(frozen=True)
class LiveDay:
    """One day's live figures and the checks' verdicts."""

    day: date
    questions: int
    """Questions created after the training cutoff (the ones measured)."""
    figures: dict[str, float]
    statuses: dict[str, str] = field(default_factory=dict)
    """Check name -> "ok", "warn" or "fail" (or "unknown" with too little to tell)."""


@dataclass(frozen=True)
class LiveQualityResult:
    model: str
    version: str
    train_cutoff: str
    days: list[LiveDay]

    def outcome(self, day: date, check: str) -> CheckOutcome:
        live = next(d for d in self.days if d.day == day)
        status = live.statuses.get(check, "unknown")
        return CheckOutcome(status in ("ok", "unknown", "warn"),
                            {"status": status, **{k: v for k, v in live.figures.items()
                                                  if not math.isnan(v)}})


def _status(value: float, limits: dict[str, float], higher_is_worse: bool = True) -> str:
    if math.isnan(value):
        return "unknown"
    worse = (lambda limit: value >= limit) if higher_is_worse else (lambda limit: value <= limit)
    return "fail" if worse(limits["fail"]) else "warn" if worse(limits["warn"]) else "ok"


def _reference_vectors(stores: Stores) -> np.ndarray:
    """[title, body] vectors of a seeded sample of training questions."""
    ids = split_question_ids(stores.questions, "train")
    if not len(ids):
        return np.zeros((0, 0), np.float32)
    picked = np.sort(np.random.default_rng(0).choice(ids, min(len(ids), REFERENCE_QUESTIONS),
                                                      replace=False))
    parts = [np.hstack([a["title"], a["body"]]) for _, a in stores.embeddings.iter_batches(
        VECTORS, ["title", "body"], question_ids=picked)]
    return np.vstack(parts) if parts else np.zeros((0, 0), np.float32)


def _test_figure(stores: Stores, model: str, level: str) -> float:
    with stores.questions.connect(read_only=True) as con:
        row = con.execute("SELECT value FROM tag_model_metrics WHERE model = ? AND level = ? "
                          "AND metric = 'micro_f1'", [model, level]).fetchone()
    return float(row[0]) if row and row[0] is not None else float("nan")


def live_tag_quality(stores: Stores, days: Sequence[date], log: logging.Logger
                     ) -> LiveQualityResult:
    """Score each day's production predictions against the askers' tags (questions created
    after the serving model's training cutoff only), and measure the day's drift."""
    from so_assets.evaluation.drift import domain_classifier_auc
    from so_assets.evaluation.live_metrics import (
        Ranked,
        level_counts,
        pooled,
        rates,
        unpredictable_share,
        unseen_rate,
    )
    from so_assets.steps.predictions import orphan_targets, serving_model

    serving, model = serving_model(stores, "tag")
    labels, targets = model.labels, orphan_targets(stores)
    # the check judges every tag the askers gave (tags the model cannot predict are misses),
    # against the same figure on the test split
    level = "all_tags" if labels.tags and _predicts_tags(model) else "clusters"
    test_figure = _test_figure(stores, serving.name, level)
    cutoff = np.datetime64(serving.train_cutoff) if serving.train_cutoff else None
    reference = _reference_vectors(stores)
    seen = {t for t, _ in stores.questions.tag_counts(split="train")}
    predictable = set(labels.tags) | {o for o, k in targets.items() if k in set(labels.tags)}
    cluster_of = dict(zip(labels.tags, labels.tag_cluster, strict=True))
    history = _history(stores, serving.version)
    # only days with questions after the cutoff are measured (a backfill of years the model
    # learned from costs one query); the others' rows go and their checks say "unknown"
    measured = question_counts(stores.questions, days, None if cutoff is None
                               else cutoff.astype("datetime64[us]").item())
    clear_days(stores.questions, "live_tag_quality", [d for d in days if d not in measured])
    out = [LiveDay(d, 0, {"questions_after_cutoff": 0.0}, dict.fromkeys(CHECKS, "unknown"))
           for d in days if d not in measured]
    for day, inputs in _inputs_by_day(stores, measured, labels, targets):
        after = (np.ones(len(inputs), bool) if cutoff is None
                 else inputs.columns["creation_date"] > cutoff)
        live = inputs.subset(after)
        predicted = _predictions(stores, day, serving.version, Ranked)
        truth_tags = {int(q): {t for t in tags if t in cluster_of}
                      | {targets[t] for t in tags if targets.get(t) in cluster_of}
                      for q, tags in zip(live.question_ids, live.tag_lists or [], strict=True)}
        truth_clusters = {q: {labels.cluster_names[cluster_of[t]] for t in tags}
                          for q, tags in truth_tags.items()}
        figures: dict[str, float] = {"questions_after_cutoff": float(len(live))}
        truth_all = {int(q): set(tags) for q, tags in zip(live.question_ids,
                                                          live.tag_lists or [], strict=True)}
        for name, truth, kind in (("tags", truth_tags, "tag"),
                                  ("clusters", truth_clusters, "cluster"),
                                  ("all_tags", truth_all, "tag")):
            counts = level_counts(predicted.get(kind, {}), truth)
            figures |= {f"{name}_{k}": float(v) for k, v in counts.items()}
            figures |= {f"{name}_{k}": v for k, v in rates(counts).items()}
            window = [h.get(name, {}) for h in history if day - timedelta(ROLLING_DAYS) < h["day"]
                      < day]
            figures[f"rolling_{name}_micro_f1"] = rates(pooled([*window, counts]))["micro_f1"]
        figures["unpredictable_share"] = unpredictable_share(live.tag_lists or [], predictable)
        figures |= _new_tag_recall(live, predictable, predicted.get("new_tag", {}))
        figures["unseen_tag_rate"] = unseen_rate(live.tag_lists or [], seen)
        current = np.hstack([live.title_vectors, live.body_vectors]) if len(live) else \
            np.zeros((0, reference.shape[1] if reference.size else 0), np.float32)
        figures["input_drift_auc"] = domain_classifier_auc(reference, current)
        figures["test_micro_f1"] = test_figure
        figures |= _score_figures(stores, live)
        gap = test_figure - figures[f"rolling_{level}_micro_f1"]
        statuses = {
            "live_quality_holds": _status(gap, QUALITY_MARGIN),
            "no_input_drift": _status(figures["input_drift_auc"], DRIFT_AUC),
            "few_unseen_tags": _status(figures["unseen_tag_rate"], UNSEEN_TAGS),
        }
        if len(live) == 0:
            statuses = dict.fromkeys(statuses, "unknown")
        _write(stores, day, serving, figures)
        history.append({"day": day, **{name: {k[len(name) + 1:]: v for k, v in figures.items()
                                              if k.startswith(f"{name}_")}
                                       for name in ("tags", "clusters", "all_tags")}})
        out.append(LiveDay(day, len(live), figures, statuses))
        log.info("%s: %d questions after the cutoff; %s micro-F1 %.3f (rolling %.3f, test "
                 "%.3f), drift AUC %.2f, unseen tags %.2f; %s", day, len(live), level,
                 figures[f"{level}_micro_f1"], figures[f"rolling_{level}_micro_f1"],
                 test_figure, figures["input_drift_auc"], figures["unseen_tag_rate"], statuses)
    return LiveQualityResult(serving.name, serving.version, serving.train_cutoff, out)


def _inputs_by_day(stores: Stores, counts: dict[date, int], labels: LabelSpace,
                   targets: Mapping[str, str]) -> Iterator[tuple[date, SplitData]]:
    """Each day of ``counts`` and its questions, oldest first, read a batch of days at a
    time."""
    from so_assets.models.prediction.assemble import load_days
    from so_assets.steps.predictions import day_batches

    for batch in day_batches(counts):
        yield from load_days(stores, batch, labels, (), targets).items()


def _new_tag_recall(live, predictable: set[str], suggested: dict) -> dict[str, float]:
    """Of the day's occurrences of tags the model cannot predict, the share the growing
    neighbour index suggested (among its top new tags for that question)."""
    occurrences = hits = 0
    for question, tags in zip(live.question_ids, live.tag_lists or [], strict=True):
        new = [t for t in tags if t not in predictable]
        occurrences += len(new)
        ranked = suggested.get(int(question))
        hits += sum(t in ranked.labels for t in new) if ranked is not None else 0
    return {"new_tag_occurrences": float(occurrences),
            "new_tag_recall": hits / occurrences if occurrences else float("nan")}


def _predicts_tags(model) -> bool:
    from so_assets.models.core.base import Target

    return Target.TAGS in model.predicts


def _predictions(stores: Stores, day: date, version: str, ranked) -> dict[str, dict]:
    """kind -> question -> Ranked, from the day's stored predictions of ``version``."""
    grouped: dict[str, dict[int, tuple[list[str], set[str]]]] = {}
    for question, _, saved_version, kind, _, label, _, chosen in day_tag_predictions(
            stores.questions, day):
        if saved_version != version:
            continue
        labels, picked = grouped.setdefault(kind, {}).setdefault(int(question), ([], set()))
        labels.append(label)
        if chosen:
            picked.add(label)
    return {kind: {q: ranked(tuple(ls), frozenset(ps)) for q, (ls, ps) in by_q.items()}
            for kind, by_q in grouped.items()}


def _history(stores: Stores, version: str) -> list[dict]:
    """Earlier days' counts measured for ``version``, by level (the rolling window)."""
    by_day: dict[date, dict] = {}
    for day, _, saved_version, metric, value in live_quality_rows(stores.questions):
        if saved_version != version or value is None:
            continue
        for name in ("all_tags", "tags", "clusters"):
            if metric.startswith(f"{name}_"):
                by_day.setdefault(day, {"day": day}).setdefault(name, {})[
                    metric[len(name) + 1:]] = value
                break
    return [by_day[d] for d in sorted(by_day)]


def _score_figures(stores: Stores, live) -> dict[str, float]:
    """Score error on the questions whose score was read at least a day after posting,
    each predicted at the age its score was read (a prediction for 365 days is not comparable
    with a one-day-old score), beside the mean baseline's on the same questions."""
    from so_assets.evaluation.score_metrics import regression_metrics
    from so_assets.models.prediction.predict import load_production
    from so_assets.models.publication.artifacts import current_dir, published_models
    from so_assets.models.registry import SCORE_MODELS, is_baseline, load_model

    empty = {"score_questions": 0.0, "score_rmse_log": float("nan"),
             "score_baseline_rmse_log": float("nan")}
    loaded = load_production(stores.models_dir, "score")
    if loaded is None or live.scores is None:
        return empty
    aged = live.subset(np.isfinite(live.scores) & (np.nan_to_num(live.score_age_days) >= 1.0))
    if not len(aged):
        return empty
    _, model = loaded
    figures = {"score_questions": float(len(aged)),
               "score_rmse_log": regression_metrics(aged.scores, model.predict_scores(aged)
                                                    .score)["rmse_log"]}
    mean = next(s for s in SCORE_MODELS if is_baseline(s))
    if mean.asset_name in published_models(stores.models_dir):
        baseline = load_model(current_dir(stores.models_dir, mean.asset_name))
        figures["score_baseline_rmse_log"] = regression_metrics(
            aged.scores, baseline.predict_scores(aged).score)["rmse_log"]
    return {**empty, **figures}


def _write(stores: Stores, day: date, serving, figures: dict[str, float]) -> None:
    n = len(figures)
    replace_day_rows(stores.questions, "live_tag_quality", {day: {
        "model": [serving.name] * n, "version": [serving.version] * n,
        "metric": list(figures), "value": [None if math.isnan(v) else float(v)
                                           for v in figures.values()],
        "measured_at": [datetime.now(UTC).replace(tzinfo=None)] * n}})


def live_quality_report(stores: Stores) -> ReportResult:
    """Rolling 7-day figures over the measured days beside the serving model's test figures,
    drift and unseen tags, as tables and plots."""
    from so_assets.evaluation.live_report import live_report

    rows = live_quality_rows(stores.questions)
    by_day: dict[date, dict[str, float]] = {}
    models: dict[date, str] = {}
    for day, model, version, metric, value in rows:
        by_day.setdefault(day, {})[metric] = float("nan") if value is None else value
        models[day] = f"{model} {version}"
    table = Table(["day", "model", "questions", "kept-tag micro-F1", "every-tag micro-F1",
                   "rolling 7-day", "test", "clusters P@1", "drift AUC", "unseen tags",
                   "new tags recovered", "score RMSE (log)"], digits=3)
    for day in sorted(by_day):
        f = by_day[day]
        table.add(day.isoformat(), models[day], int(f.get("questions_after_cutoff", 0)),
                  f.get("tags_micro_f1", float("nan")), f.get("all_tags_micro_f1", float("nan")),
                  f.get("rolling_all_tags_micro_f1", float("nan")),
                  f.get("test_micro_f1", float("nan")), f.get("clusters_P@1", float("nan")),
                  f.get("input_drift_auc", float("nan")), f.get("unseen_tag_rate", float("nan")),
                  f.get("new_tag_recall", float("nan")), f.get("score_rmse_log", float("nan")))
    report = live_report(table, {d.isoformat(): v for d, v in sorted(by_day.items())},
                         stores.reports_dir / "live_quality", ROLLING_DAYS,
                         QUALITY_MARGIN, DRIFT_AUC, UNSEEN_TAGS)
    return write_report(report, stores.reports_dir)
