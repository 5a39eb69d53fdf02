"""tag_evaluation_report and score_evaluation_report: every published model of a task on the
same test split."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from so_assets.models.core.data import LabelSpace
from so_assets.models.publication.artifacts import current_dir, published_models, read_metrics
from so_assets.models.registry import SCORE_MODELS, TAG_MODELS, ModelSpec, load_model, saved_labels
from so_assets.steps.results import ReportResult, write_report
from so_assets.storage.stores import Stores

if TYPE_CHECKING:
    import numpy as np

    from so_assets.evaluation.orphans import OrphanCandidates, Questions
    from so_assets.evaluation.tag_report import ModelResult
    from so_assets.models.core.base import Model, TagModel
    from so_assets.models.core.data import SplitData, TrainingData


@dataclass(frozen=True)
class Published:
    """A published model of a task: its spec, its folder and its saved figures. The model is
    loaded by :meth:`load` when its turn comes and dropped after it: at 100,000 questions and
    15,000 tag labels the tag models take GBs together."""

    spec: ModelSpec
    folder: Path
    saved: dict

    def load(self) -> Model:
        return load_model(self.folder)


def published(stores: Stores, specs: Sequence[ModelSpec], labels: LabelSpace,
              log: logging.Logger) -> list[Published]:
    """The models of ``specs`` that have a published version trained on ``labels`` (the
    current label space), with their saved figures; the others are named in the log (never
    trained here, or trained on an older tree: retrain them)."""
    there = set(published_models(stores.models_dir))
    out = []
    for spec in specs:
        if spec.asset_name not in there:
            log.info("%s has no published version: left out of the report", spec.asset_name)
            continue
        folder = current_dir(stores.models_dir, spec.asset_name)
        if saved_labels(folder) != labels:
            log.warning("%s was trained on another label space (an older tag tree): left "
                        "out of the report until it is trained again", spec.asset_name)
            continue
        out.append(Published(spec, folder, read_metrics(stores.models_dir, spec.asset_name)))
    if not out:
        raise ValueError("no model of this task is published for the current tag tree: "
                         "materialize the model assets first")
    return out


def _questions(split: SplitData) -> Questions:
    from so_assets.evaluation.orphans import Questions
    from so_assets.tagtree.geometry import question_directions

    return Questions(split.tag_matrix(), split.tag_lists or [],
                     question_directions(split.title_vectors, split.body_vectors))


def _orphan_candidates(stores: Stores, kept_tags: list[str], kept_counts: np.ndarray
                       ) -> OrphanCandidates:
    """The mapped orphans of the tag tree, scored through ``kept_tags`` (the label space),
    whose training questions are ``kept_counts``."""
    from so_assets.evaluation.orphans import OrphanCandidates
    from so_assets.storage.tag_tables import read_imputation

    vectors = stores.tag_tree_vectors.load()
    return OrphanCandidates.build(kept_tags, [(o, n, k) for o, n, k, _ in
                                              read_imputation(stores.questions)],
                                  vectors.tags, vectors.vectors, kept_counts)


def tag_evaluation_report(stores: Stores, log: logging.Logger,
                          specs: Sequence[ModelSpec] = TAG_MODELS) -> ReportResult:
    """Every published tag model of ``specs`` on the same test split: F1 variants,
    precision/recall, Hamming loss, P@k, R@5, nDCG@5, recall by frequency bucket, every-tag
    figures, the threshold rules' validation/test agreement, per-label table, confusion
    matrix, cost and parameters."""
    from so_assets.evaluation.tag_metrics import frequency_buckets
    from so_assets.evaluation.tag_report import tag_report
    from so_assets.models.core.base import TagModel
    from so_assets.models.prediction.assemble import assemble, current_labels
    from so_assets.models.registry import baseline_for
    from so_assets.storage.model_metrics import write_tag_model_metrics

    models = published(stores, specs, current_labels(stores.questions), log)
    data, test = assemble(stores, set().union(*(m.spec.model.needs for m in models)))
    buckets = {"clusters": frequency_buckets(data.train.clusters),
               "tags": frequency_buckets(data.train.tags)}
    baseline = baseline_for(TagModel, data.labels)
    baseline.fit(data)
    orphans = _orphan_candidates(stores, data.labels.tags, data.train.tags.sum(0))
    validation_questions, test_questions = _questions(data.validation), _questions(test)
    results = []
    for name, load, saved, folder in [
            ("most_frequent_baseline", lambda: baseline, {}, None),
            *((m.spec.name, m.load, m.saved, m.folder) for m in models)]:
        results.append(_evaluated(name, load(), saved, data, test, buckets, orphans,
                                  (validation_questions, test_questions), folder))
        log.info("%s: test micro-F1 %.4f", name, results[-1].metrics["micro_f1"])
    report = tag_report(results, test.clusters, len(data.train), data.labels.cluster_names,
                        stores.reports_dir / "tag_evaluation")
    write_tag_model_metrics(stores.questions, [
        *((r.name, "clusters", k, v) for r in results for k, v in r.metrics.items()),
        *((r.name, "tags", k, v) for r in results for k, v in r.tag_metrics.items()),
        *((r.name, "all_tags", k, v) for r in results for k, v in r.all_tag_metrics.items())])
    return write_report(report, stores.reports_dir)


def _evaluated(name: str, model: TagModel, saved: dict, data: TrainingData, test: SplitData,
               buckets: dict, orphans: OrphanCandidates, questions: tuple[Questions, Questions],
               folder: Path | None) -> ModelResult:
    """One model's figures on test (its [questions, tag labels] scores, decisions and held-out
    validation scores live only while this runs: at 10,000 test questions x 15,000 tag labels
    each takes 600 MB, and the next model's must not sit beside them). The validation scores
    come from the model's folder ``folder`` when it stored them for these very questions."""
    from so_assets.evaluation.orphans import all_tag_metrics, tuned_for
    from so_assets.evaluation.tag_metrics import multilabel_metrics, threshold_comparison
    from so_assets.evaluation.tag_report import ModelResult
    from so_assets.models.core.thresholds import apply_thresholds
    from so_assets.models.publication.held_out import read_held_out_scores

    started = time.perf_counter()
    scores = model.predict_scores(test)
    clusters, tags = model.decide(scores)
    per_second = len(test) / max(time.perf_counter() - started, 1e-9)
    result = ModelResult(name, multilabel_metrics(test.clusters, scores.clusters, clusters,
                                                  buckets["clusters"]),
                         scores.clusters, clusters, model.threshold_rule,
                         saved.get("train_seconds", 0.0), saved.get("peak_rss_mb", 0.0),
                         float("inf") if not saved else per_second,
                         parameters=model.params.flat())
    if tags is not None:
        result.tag_metrics = multilabel_metrics(questions[1].kept_truth, scores.tags, tags,
                                                buckets["tags"])
        stored = read_held_out_scores(folder, data.validation.question_ids) if folder else None
        held_out = stored or model.held_out_scores(data.validation)
        tuned = tuned_for(orphans, data.labels.tags, questions[0], held_out.tags,
                          model.decide(held_out)[1])
        del held_out, stored  # gone before the test's every-tag view is built
        result.all_tag_metrics = all_tag_metrics(tuned, data.labels.tags, questions[1],
                                                 scores.tags, tags)
    if saved:
        for level, truth, level_scores, chosen, prefix in (
                ("clusters", test.clusters, scores.clusters, clusters, ""),
                ("tags", questions[1].kept_truth, scores.tags, tags, "tags_")):
            if level_scores is None:
                continue
            result.threshold_check |= threshold_comparison(
                truth, chosen, apply_thresholds(level_scores, model.global_thresholds[level]),
                saved["validation"].get(f"{prefix}micro_f1", float("nan")), level)
    return result


def score_evaluation_report(stores: Stores, log: logging.Logger,
                            specs: Sequence[ModelSpec] = SCORE_MODELS) -> ReportResult:
    """Every published score model of ``specs`` on the same test split: RMSE, MAE, R²,
    Spearman on the raw and the log scale, errors by score bucket and by age bucket, plots,
    feature importance and parameters."""
    from so_assets.evaluation.report import Report
    from so_assets.evaluation.score_report import ScoreResult, score_report
    from so_assets.models.core.base import ScoreModel
    from so_assets.models.prediction.assemble import assemble, current_labels
    from so_assets.steps.models import NO_SCORES, questions_have_scores
    from so_assets.storage.model_metrics import write_score_model_metrics

    if not questions_have_scores(stores):
        report = Report("score_evaluation", "Score prediction: nothing to evaluate")
        report.text(f"The score models: {NO_SCORES}.")
        return write_report(report, stores.reports_dir)
    models = published(stores, specs, current_labels(stores.questions), log)
    data, test = assemble(stores, set().union(*(m.spec.model.needs for m in models)))
    test = ScoreModel.scored(test)
    results = []
    for published_model in models:
        model, saved = published_model.load(), published_model.saved
        scores = model.predict_scores(test)
        results.append(ScoreResult(published_model.spec.name, scores.score, model.target,
                                   saved["train_seconds"], saved["peak_rss_mb"],
                                   scores.score_low, scores.score_high,
                                   model.feature_importance(), model.params.flat()))
        log.info("%s: test metrics %s", published_model.spec.name,
                 results[-1].metrics(test.scores))
    report = score_report(results, test.scores, test.score_age_days, len(data.train),
                          stores.reports_dir / "score_evaluation")
    write_score_model_metrics(stores.questions, [
        (r.name, k, v) for r in results for k, v in r.metrics(test.scores).items()])
    return write_report(report, stores.reports_dir)
