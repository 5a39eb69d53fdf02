"""tag_predictions and score_predictions: each day's questions scored by the production models,
stored in DuckDB (the day replaced exactly), with the version that predicted them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from so_assets.models.prediction.fresh_neighbours import THRESHOLD as NEW_TAG_THRESHOLD
from so_assets.params import Params, param
from so_assets.storage.predictions import replace_day_rows
from so_assets.storage.stores import Stores

if TYPE_CHECKING:
    from so_assets.models.core.base import Model
    from so_assets.models.publication.production import Production

TOP_TAGS = 10  # kept tags stored per question, best first
TOP_CLUSTERS = 5
FRESH_DAYS = 60
"""How far back the growing neighbour index reaches (days after the model's cutoff only):
a retrain every week or so keeps it a few days long; this bounds it when none happens."""
BATCH_QUESTIONS = 4096
BATCH_DAYS = 64
"""Days read, predicted and written together: up to this many, or until their questions pass
BATCH_QUESTIONS (a busy day goes alone). A range of years holding a question or two a day then
costs one DuckDB read and one write per batch, not per day (each connection about 20 ms)."""


@dataclass(frozen=True)
class ScorePredictionParams(Params):
    horizon_days: float = param(365.0, "The age each question's score is predicted for.",
                                gt=0, le=3650)


@dataclass(frozen=True)
class PredictionsResult:
    model: str
    version: str
    questions: int
    rows: int
    per_day: dict[date, int] = field(metadata={"per_partition": True})
    """Questions predicted per day (each partition's row count, not the run's metadata: a
    range of thousands of days would copy it into every partition's event)."""


def orphan_targets(stores: Stores) -> dict[str, str]:
    """Orphan tag -> the kept tag it was imputed to (unmapped orphans left out)."""
    from so_assets.storage.tag_tables import read_imputation

    return {orphan: kept for orphan, _, kept, _ in read_imputation(stores.questions) if kept}


def serving_model(stores: Stores, task: str) -> tuple[Production, Model]:
    """The production model of ``task`` and its record; an error naming the asset to
    materialize when nothing serves yet."""
    from so_assets.models.prediction.predict import load_production

    loaded = load_production(stores.models_dir, task)
    if loaded is None:
        raise ValueError(f"no production {task} model: materialize production_models first")
    return loaded


def tag_predictions(stores: Stores, days: Sequence[date], log: logging.Logger
                    ) -> PredictionsResult:
    """The production tag model's top kept tags and clusters of every question of ``days``
    (scores and above-threshold flags; a tag's cluster named by its representative tag)."""
    from so_assets.models.prediction.assemble import load_days
    from so_assets.models.training.progress import Progress

    serving, model = serving_model(stores, "tag")
    labels, targets = model.labels, orphan_targets(stores)
    known = set(labels.tags) | set(targets)
    batches, counts = _busy_batches(stores, "tag_predictions", days)
    progress = Progress(log, f"tag_predictions by {serving.name} {serving.version}",
                        sum(counts.values()), "questions")
    per_day, rows_written = dict.fromkeys(days, 0), 0
    for batch in batches:
        inputs_by_day = load_days(stores, batch, labels, model.needs, targets)
        fresh = _new_tags(stores, batch, serving.train_cutoff, inputs_by_day, known)
        written = {day: _tag_rows(model, inputs, fresh[day], serving)
                   for day, inputs in inputs_by_day.items()}
        rows_written += replace_day_rows(stores.questions, "tag_predictions", written)
        for day, inputs in inputs_by_day.items():
            per_day[day] = len(inputs)
            progress.step(len(inputs))
    return PredictionsResult(serving.name, serving.version, sum(per_day.values()),
                             rows_written, per_day)


def _tag_rows(model: Model, inputs, fresh: list[list[tuple[str, float]]],
              serving: Production) -> dict[str, list]:
    """One day's rows of ``tag_predictions``: each question's ranked clusters, kept tags and
    new tags."""
    from so_assets.evaluation.tag_metrics import best_labels

    labels = model.labels
    tag_clusters = [labels.cluster_names[c] for c in labels.tag_cluster]
    columns: dict[str, list] = {k: [] for k in ("question_id", "kind", "rank", "label",
                                                "cluster", "score", "chosen")}
    if len(inputs):
        scores = model.predict_scores(inputs)
        clusters, tags = model.decide(scores)
        best_clusters = best_labels(scores.clusters, TOP_CLUSTERS)
        best_tags = best_labels(scores.tags, TOP_TAGS) if tags is not None else None
        for row, question in enumerate(inputs.question_ids.tolist()):
            _add_ranked(columns, question, "cluster", best_clusters[row],
                        scores.clusters[row], clusters[row], labels.cluster_names, None)
            if best_tags is not None:
                _add_ranked(columns, question, "tag", best_tags[row], scores.tags[row],
                            tags[row], labels.tags, tag_clusters)
            for rank, (tag, vote) in enumerate(fresh[row], start=1):
                for name, value in (("question_id", question), ("kind", "new_tag"),
                                    ("rank", rank), ("label", tag), ("cluster", None),
                                    ("score", vote), ("chosen", vote >= NEW_TAG_THRESHOLD)):
                    columns[name].append(value)
    n = len(columns["question_id"])
    return columns | {"model": [serving.name] * n, "version": [serving.version] * n,
                      "predicted_at": [datetime.now(UTC).replace(tzinfo=None)] * n}


def _busy_batches(stores: Stores, table: str, days: Sequence[date]
                  ) -> tuple[list[list[date]], dict[date, int]]:
    """The days of ``days`` that hold questions, oldest first, in batches (BATCH_DAYS,
    BATCH_QUESTIONS), and their question counts; the other days' rows of ``table`` are cleared
    at once (a range of years is mostly empty days)."""
    from so_assets.storage.datasets import question_counts
    from so_assets.storage.predictions import clear_days

    counts = question_counts(stores.questions, days)
    clear_days(stores.questions, table, [d for d in days if d not in counts])
    return day_batches(counts), counts


def day_batches(counts: dict[date, int]) -> list[list[date]]:
    """The days of ``counts`` (questions per day), oldest first, in batches of at most
    BATCH_DAYS days and, unless a day alone has more, BATCH_QUESTIONS questions."""
    batches: list[list[date]] = []
    size = 0
    for day in sorted(counts):
        if not batches or len(batches[-1]) == BATCH_DAYS or size + counts[day] > BATCH_QUESTIONS:
            batches.append([])
            size = 0
        batches[-1].append(day)
        size += counts[day]
    return batches


def _new_tags(stores: Stores, days: Sequence[date], cutoff: str, inputs_by_day: dict,
              known: set[str]) -> dict[date, list[list[tuple[str, float]]]]:
    """Each question's votes for tags the model does not know, from the questions labelled
    after the model's cutoff, in the FRESH_DAYS before its day (the index grows by a day each
    day); the batch's questions are read once."""
    from so_assets.models.core.data import load_dense
    from so_assets.models.prediction.fresh_neighbours import new_tag_votes
    from so_assets.storage.datasets import questions_between
    from so_assets.storage.embedding_kinds import VECTORS
    from so_assets.tagtree.geometry import question_directions

    out = {day: [[] for _ in range(len(inputs))] for day, inputs in inputs_by_day.items()}
    after = np.datetime64(cutoff) if cutoff else None
    ids, created, tag_lists = questions_between(
        stores.questions, after, min(days) - timedelta(days=FRESH_DAYS), max(days))
    if not len(ids):
        return out
    vectors = load_dense(stores.embeddings, VECTORS, ids, ["title", "body"],
                         days=sorted(set(created.astype(object).tolist())))
    index = question_directions(vectors["title"], vectors["body"])
    for day, inputs in inputs_by_day.items():
        inside = np.flatnonzero((created >= np.datetime64(day - timedelta(days=FRESH_DAYS)))
                                & (created < np.datetime64(day)))
        if len(inside) and len(inputs):
            out[day] = new_tag_votes(
                question_directions(inputs.title_vectors, inputs.body_vectors), index[inside],
                [tag_lists[i] for i in inside], known)
    return out


def _add_ranked(columns: dict[str, list], question: int, kind: str, ranked: np.ndarray,
                scores: np.ndarray, chosen: np.ndarray, names: Sequence[str],
                clusters: Sequence[str] | None) -> None:
    """One question's ``ranked`` labels (column indices, best first) as rows."""
    for rank, index in enumerate(ranked.tolist(), start=1):
        columns["question_id"].append(question)
        columns["kind"].append(kind)
        columns["rank"].append(rank)
        columns["label"].append(names[index])
        columns["cluster"].append(clusters[index] if clusters is not None else None)
        columns["score"].append(float(scores[index]))
        columns["chosen"].append(bool(chosen[index]))


def score_predictions(stores: Stores, days: Sequence[date], params: ScorePredictionParams,
                      log: logging.Logger) -> PredictionsResult:
    """The production score model's score of every question of ``days`` at
    ``horizon_days``, with its 80 % interval when the model gives one; the questions' own
    tags give the tag features."""
    from so_assets.models.prediction.assemble import load_days

    serving, model = serving_model(stores, "score")
    targets = orphan_targets(stores)
    batches, _ = _busy_batches(stores, "score_predictions", days)
    per_day, rows_written = dict.fromkeys(days, 0), 0
    for batch in batches:
        written = {}
        for day, inputs in load_days(stores, batch, model.labels, model.needs,
                                     targets).items():
            inputs.score_age_days = np.full(len(inputs), params.horizon_days)
            written[day] = _score_rows(model, inputs, params, serving)
            per_day[day] = len(inputs)
        rows_written += replace_day_rows(stores.questions, "score_predictions", written)
    log.info("scored %d questions over %d day(s) with %s %s", sum(per_day.values()),
             len(per_day), serving.name, serving.version)
    return PredictionsResult(serving.name, serving.version, sum(per_day.values()),
                             rows_written, per_day)


def _score_rows(model: Model, inputs, params: ScorePredictionParams, serving: Production
                ) -> dict[str, list]:
    scores = model.predict_scores(inputs)
    n = len(inputs)
    return {
        "question_id": inputs.question_ids.tolist(), "model": [serving.name] * n,
        "version": [serving.version] * n, "horizon_days": [params.horizon_days] * n,
        "score": scores.score.astype(float).tolist(),
        "low": (scores.score_low.astype(float).tolist() if scores.score_low is not None
                else [None] * n),
        "high": (scores.score_high.astype(float).tolist() if scores.score_high is not None
                 else [None] * n),
        "predicted_at": [datetime.now(UTC).replace(tzinfo=None)] * n}
