"""dataset_splits, one step that trains any registered model, its baseline check, and the
evaluation report that compares every tag model on the same test split."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from so_assets.embedding.config import EncoderConfig
from so_assets.models.publication.artifacts import current_dir, read_metrics
from so_assets.models.registry import SCORE_MODELS, TAG_MODELS, ModelSpec
from so_assets.steps.results import CheckOutcome, ReportResult, param, write_report
from so_assets.storage.datasets import labelled_sources
from so_assets.storage.splits import assign_splits
from so_assets.storage.stores import Stores

if TYPE_CHECKING:
    import numpy as np

    from so_assets.models.core.data import SplitData, TrainingData
    from so_assets.models.tags.orphans import OrphanCandidates


@dataclass(frozen=True)
class SplitParams:
    train_percent: int = param(80, "Share of content groups in the training split.")
    validation_percent: int = param(10, "Share in the validation split; the rest is test.")


@dataclass(frozen=True)
class SplitsResult:
    train: int
    validation: int
    test: int


def assign_dataset_splits(stores: Stores, params: SplitParams) -> SplitsResult:
    """Train / validation / test by md5 of each content group's smallest question id: stable as
    partitions arrive, and duplicates (same title and body) never straddle splits."""
    counts = assign_splits(stores.questions, params.train_percent, params.validation_percent)
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
    """The published model's validation figure is better than its task's naive baseline."""
    metrics = read_metrics(stores.models_dir, spec.asset_name)
    metric = metrics["selection_metric"]
    ours, baseline = metrics["validation"][metric], metrics["baseline_validation"]
    return CheckOutcome(spec.model.beats(ours, baseline), {
        f"validation_{metric}": ours, f"{metrics['baseline']}_{metric}": baseline})


def tag_evaluation_report(stores: Stores, log: logging.Logger,
                          specs: Sequence[ModelSpec] = TAG_MODELS) -> ReportResult:
    """Every tag model of ``specs`` on the same test split: F1 variants, precision/recall,
    Hamming loss, P@k, R@5, nDCG@5, recall by frequency bucket, per-label table, confusion
    matrix, cost."""
    from so_assets.evaluation.tag_metrics import frequency_buckets, multilabel_metrics
    from so_assets.evaluation.tag_report import ModelResult as Evaluated
    from so_assets.evaluation.tag_report import tag_report
    from so_assets.models.core.base import TagModel
    from so_assets.models.prediction.assemble import assemble
    from so_assets.models.registry import baseline_for, load_model
    from so_assets.storage.model_metrics import write_tag_model_metrics

    needs = set().union(*(spec.model.needs for spec in specs))
    data, test = assemble(stores, needs)
    buckets = frequency_buckets(data.train.clusters)
    tag_buckets = frequency_buckets(data.train.tags)
    baseline = baseline_for(TagModel, data.labels)
    baseline.fit(data)
    models = [("most_frequent_baseline", baseline, {"train_seconds": 0.0, "peak_rss_mb": 0.0})]
    orphans = _orphan_candidates(stores, data.labels.tags)
    for spec in specs:
        folder = current_dir(stores.models_dir, spec.asset_name)
        models.append((spec.name, load_model(folder), read_metrics(stores.models_dir,
                                                                    spec.asset_name)))
    results = []
    for name, model, saved in models:
        started = time.perf_counter()
        scores = model.predict_scores(test)
        clusters, tags = model.decide(scores)
        per_second = len(test) / max(time.perf_counter() - started, 1e-9)
        result = Evaluated(name, multilabel_metrics(test.clusters, scores.clusters, clusters,
                                                    buckets),
                           scores.clusters, clusters, model.threshold_rule,
                           saved["train_seconds"], saved["peak_rss_mb"],
                           float("inf") if name == "most_frequent_baseline" else per_second)
        if tags is not None:
            result.tag_metrics = multilabel_metrics(test.tags, scores.tags, tags, tag_buckets)
            result.all_tag_metrics = _all_tag_metrics(model, orphans, data, test, scores, tags)
        if name != "most_frequent_baseline":
            result.threshold_check = threshold_comparison(model, scores, test, saved)
        results.append(result)
        log.info("%s: test micro-F1 %.4f", name, result.metrics["micro_f1"])
    report = tag_report(results, test.clusters, len(data.train), data.labels.cluster_names,
                        stores.reports_dir / "tag_evaluation")
    write_tag_model_metrics(stores.questions, [
        *((r.name, "clusters", k, v) for r in results for k, v in r.metrics.items()),
        *((r.name, "tags", k, v) for r in results for k, v in r.tag_metrics.items()),
        *((r.name, "all_tags", k, v) for r in results for k, v in r.all_tag_metrics.items())])
    return write_report(report, stores.reports_dir)


def _orphan_candidates(stores: Stores, kept_tags: list[str]) -> OrphanCandidates:
    from so_assets.models.tags.orphans import OrphanCandidates
    from so_assets.storage.tag_tables import read_imputation

    vectors = stores.tag_tree_vectors.load()
    return OrphanCandidates.build(kept_tags, [(o, k) for o, _, k, _ in
                                              read_imputation(stores.questions)],
                                  vectors.tags, vectors.vectors)


def _all_tag_metrics(model, candidates: OrphanCandidates, data: TrainingData, test: SplitData,
                     scores, chosen: np.ndarray) -> dict[str, float]:
    """Metrics over every tag of the test questions: the kept tags the model chose, orphans
    through their kept tag (threshold tuned on the model's validation scores), and the tags
    nothing can predict counted as missed."""
    from so_assets.evaluation.tag_metrics import multilabel_metrics
    from so_assets.models.tags.orphans import all_tags_view, tuned_for

    held_out = model.held_out_scores(data.validation)
    _, validation_chosen = model.decide(held_out)
    tuned = tuned_for(candidates, data.labels.tags, data.validation, held_out.tags,
                      validation_chosen)
    truth, all_scores, all_chosen = all_tags_view(test.tags, scores.tags, chosen, tuned,
                                                  data.labels.tags, test)
    return {**multilabel_metrics(truth, all_scores, all_chosen),
            "orphans_predicted": float(all_chosen[:, test.tags.shape[1]:].sum()),
            "orphan_threshold": tuned.threshold}


def threshold_comparison(model, scores, test, saved: dict) -> dict[str, float]:
    """Validation and test micro-F1 of the model's threshold rule, and test micro-F1 at the
    single best validation threshold (what per-label tuning must not fall below)."""
    from so_assets.models.core.thresholds import apply_thresholds, micro_f1

    validation = saved.get("validation", {})
    out = {}
    for level, prefix in (("clusters", ""), ("tags", "tags_")):
        level_scores = getattr(scores, level)
        if level_scores is None:
            continue
        truth = getattr(test, level)
        chosen = model.decide(scores)[0 if level == "clusters" else 1]
        out[f"{level}_validation"] = validation.get(f"{prefix}micro_f1", float("nan"))
        out[f"{level}_test"] = micro_f1(truth, chosen)
        out[f"{level}_test_global"] = micro_f1(truth, apply_thresholds(
            level_scores, model.global_thresholds[level]))
    return out


def score_evaluation_report(stores: Stores, log: logging.Logger,
                            specs: Sequence[ModelSpec] = SCORE_MODELS) -> ReportResult:
    """Every score model of ``specs`` on the same test split: RMSE, MAE, R², Spearman on the
    raw and the log scale, errors by score bucket and by age bucket, plots, feature
    importance."""
    from so_assets.evaluation.score_report import ScoreResult, score_report
    from so_assets.models.core.base import ScoreModel
    from so_assets.models.prediction.assemble import assemble
    from so_assets.models.registry import load_model
    from so_assets.storage.model_metrics import write_score_model_metrics

    needs = set().union(*(spec.model.needs for spec in specs))
    data, test = assemble(stores, needs)
    test = ScoreModel.scored(test)
    results = []
    for spec in specs:
        model = load_model(current_dir(stores.models_dir, spec.asset_name))
        saved = read_metrics(stores.models_dir, spec.asset_name)
        scores = model.predict_scores(test)
        results.append(ScoreResult(spec.name, scores.score, model.target,
                                   saved["train_seconds"], saved["peak_rss_mb"],
                                   scores.score_low, scores.score_high,
                                   model.feature_importance()))
        log.info("%s: test metrics %s", spec.name, results[-1].metrics(test.scores))
    report = score_report(results, test.scores, test.score_age_days, len(data.train),
                          stores.reports_dir / "score_evaluation")
    write_score_model_metrics(stores.questions, [
        (r.name, k, v) for r in results for k, v in r.metrics(test.scores).items()])
    return write_report(report, stores.reports_dir)
