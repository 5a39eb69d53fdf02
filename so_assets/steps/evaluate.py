"""``so-assets evaluate``: every step in the pipeline's order on one file, in its own folder,
without Dagster."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from so_assets.embedding.config import EncoderConfig
from so_assets.evaluation.report import Report
from so_assets.models.registry import SCORE_MODELS, TAG_MODELS, ModelSpec, is_baseline
from so_assets.stackexchange.sources import DatasetSummary, Source
from so_assets.steps import embeddings, exploration, ingestion, models, tagtree
from so_assets.steps.results import CheckOutcome
from so_assets.storage.embedding_store import TOKENS, VECTORS
from so_assets.storage.stores import Stores


@dataclass(frozen=True)
class EvaluationPlan:
    """How a file is sized for the chain: the kept-tag threshold and the number of clusters."""

    min_tag_count: int
    n_clusters: int
    first_day: str
    last_day: str
    questions: int
    tags: int
    kept_tags: int


def plan(summary: DatasetSummary, min_tag_count: int | None = None,
         n_clusters: int | None = None) -> EvaluationPlan:
    """By default a tag is kept when 0.1 % of training questions use it (the reference's 100
    in 100,000; at least 5), and there is one label cluster per four kept tags (2 to 100).
    The kept tags are estimated here from the whole file; the tree counts training questions."""
    train_share = models.SplitParams().train_percent / 100
    threshold = min_tag_count or max(5, round(summary.questions * train_share / 1000))
    kept = sum(1 for n in summary.tag_counts.values() if n * train_share >= threshold)
    if kept < 2:
        counts = sorted(summary.tag_counts.values(), reverse=True)
        second = counts[1] if len(counts) > 1 else 0
        if second == 0:
            raise ValueError(f"the file's {summary.questions} questions use "
                             f"{len(counts)} distinct tag(s): a tag predictor needs at least "
                             "two tags to choose between")
        raise ValueError(f"{kept} tag(s) are used by {threshold} or more questions; a tag "
                         "predictor needs at least two: pass --min-tag-count "
                         f"{second} or lower")
    clusters = n_clusters or max(2, min(100, kept // 4))
    return EvaluationPlan(threshold, min(clusters, kept), summary.first_day.isoformat(),
                          summary.last_day.isoformat(), summary.questions,
                          len(summary.tag_counts), kept)


@dataclass
class EvaluationRun:
    """What ``evaluate`` did: its plan, every check's outcome, the reports, cost."""

    dataset: str
    format: str
    plan: EvaluationPlan
    checks: dict[str, bool] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    report_paths: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    models_mb: float = 0.0
    """What the trained models take on disk (every folder and shared part)."""

    def summary(self) -> dict:
        from so_assets.models.publication.train import process_peak_rss_mb

        return {"dataset": self.dataset, "format": self.format, **asdict(self.plan),
                "success": all(self.checks.values()), "checks": self.checks,
                "wall_seconds": self.wall_seconds, "process_peak_rss_mb": process_peak_rss_mb(),
                "models_mb": self.models_mb, "reports": self.report_paths, "notes": self.notes}


def chosen_models(names: Collection[str] | None
                  ) -> tuple[tuple[ModelSpec, ...], tuple[ModelSpec, ...]]:
    """The tag and score models to train: every registered one, or those ``names`` gives
    (the score task's mean baseline always, as the score report compares against it); an
    unknown name is an error listing the registered ones."""
    if not names:
        return TAG_MODELS, SCORE_MODELS
    known = {spec.name for spec in TAG_MODELS + SCORE_MODELS}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"no model named {', '.join(unknown)}; registered: {sorted(known)}")
    return (tuple(s for s in TAG_MODELS if s.name in names),
            tuple(s for s in SCORE_MODELS if s.name in names or is_baseline(s)))


def evaluate_dataset(source: Source, out_dir: Path, *, dataset: str = "",
                     encoder_config: EncoderConfig | None = None,
                     min_tag_count: int | None = None, n_clusters: int | None = None,
                     model_names: Collection[str] | None = None,
                     log: logging.Logger | None = None) -> EvaluationRun:
    """Import, embed, build the tree and labels, train every model (or only those named in
    ``model_names``) and write the reports."""
    log = log or logging.getLogger(__name__)
    tag_specs, score_specs = chosen_models(model_names)
    started = time.monotonic()
    encoder_config = encoder_config or EncoderConfig()
    settings = plan(source.summarize(), min_tag_count, n_clusters)
    log.info("evaluating %s: %s", dataset or source.location(), settings)
    stores = Stores(out_dir, encoder_config.slug())
    run = EvaluationRun(dataset or source.location(), source.kind, settings)
    first, last = date.fromisoformat(settings.first_day), date.fromisoformat(settings.last_day)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def check(name: str, outcome: CheckOutcome) -> None:
        run.checks[name] = outcome.passed
        if not outcome.passed:
            log.warning("check %s failed: %s", name, outcome.details)

    def keep(result) -> None:
        run.reports[result.report.name] = result.report
        run.report_paths[result.report.name] = str(result.path)

    ingestion.load_raw_questions(stores, source, days, log)
    check("raw_questions:raw_row_counts_match_source", ingestion.raw_counts_match_source(stores))
    ingestion.build_questions(stores, None, log)
    check("questions:unique_question_ids", ingestion.unique_question_ids(stores))
    check("questions:no_empty_titles", ingestion.no_empty_titles(stores))
    keep(exploration.eda_report(stores))
    embeddings.embed_questions(stores, encoder_config, days, {VECTORS, TOKENS},
                               embeddings.EmbeddingParams(), log)
    embeddings.embed_tags(stores, encoder_config, log)
    keep(embeddings.embedding_analysis(stores))
    models.assign_dataset_splits(stores, models.SplitParams())
    tagtree.build_tag_tree(stores, tagtree.TagTreeParams(
        n_clusters=settings.n_clusters, min_tag_count=settings.min_tag_count), log)
    tagtree.label_questions(stores, log)
    keep(tagtree.tag_clustering_report(stores))
    for spec in tag_specs:
        models.train_model(stores, spec, encoder_config, log)
        check(f"{spec.asset_name}:beats_most_frequent_baseline",
              models.beats_baseline(stores, spec))
    if tag_specs:
        keep(models.tag_evaluation_report(stores, log, tag_specs))
    if source.has_scores:
        for spec in score_specs:
            models.train_model(stores, spec, encoder_config, log)
            if not is_baseline(spec):
                check(f"{spec.asset_name}:beats_mean_baseline",
                      models.beats_baseline(stores, spec))
        keep(models.score_evaluation_report(stores, log, score_specs))
    else:
        run.notes.append(f"{source.kind} files carry no question scores: the score models "
                         "were not trained and there is no score report.")
        log.warning(run.notes[-1])
    run.wall_seconds = time.monotonic() - started
    run.models_mb = sum(f.stat().st_size for f in stores.models_dir.rglob("*")
                        if f.is_file() and not f.is_symlink()) / 2**20
    (out_dir / "evaluation_summary.json").write_text(json.dumps(run.summary(), indent=1))
    return run
