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
    from so_assets.evaluation.tag_metrics import best_labels
    from so_assets.models.prediction.assemble import load_day

    serving, model = serving_model(stores, "tag")
    labels, targets = model.labels, orphan_targets(stores)
    tag_clusters = [labels.cluster_names[c] for c in labels.tag_cluster]
    busy = _days_to_predict(stores, "tag_predictions", days)
    per_day, rows_written = dict.fromkeys(days, 0), 0
    for day in busy:
        inputs = load_day(stores, day, labels, model.needs, targets)
        columns: dict[str, list] = {k: [] for k in ("question_id", "kind", "rank", "label",
                                                    "cluster", "score", "chosen")}
        if len(inputs):
            scores = model.predict_scores(inputs)
            clusters, tags = model.decide(scores)
            fresh = _new_tags(stores, day, serving.train_cutoff, inputs,
                              set(labels.tags) | set(targets))
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
        columns |= {"model": [serving.name] * n, "version": [serving.version] * n,
                    "predicted_at": [datetime.now(UTC).replace(tzinfo=None)] * n}
        rows_written += replace_day_rows(stores.questions, "tag_predictions", day, columns)
        per_day[day] = len(inputs)
        log.info("%s: %d questions tagged by %s %s", day, len(inputs), serving.name,
                 serving.version)
    return PredictionsResult(serving.name, serving.version, sum(per_day.values()),
                             rows_written, per_day)


def _days_to_predict(stores: Stores, table: str, days: Sequence[date]) -> list[date]:
    """The days of ``days`` that hold questions, oldest first; the others' rows of ``table``
    are cleared at once (a range of years is mostly empty days)."""
    from so_assets.storage.datasets import days_with_questions
    from so_assets.storage.predictions import clear_days

    busy = days_with_questions(stores.questions, days)
    clear_days(stores.questions, table, [d for d in days if d not in busy])
    return sorted(busy)


def _new_tags(stores: Stores, day: date, cutoff: str, inputs, known: set[str]
              ) -> list[list[tuple[str, float]]]:
    """Each question's votes for tags the model does not know, from the questions labelled
    after the model's cutoff and before ``day`` (the index grows by a day each day)."""
    from so_assets.models.core.data import load_dense
    from so_assets.models.prediction.fresh_neighbours import new_tag_votes
    from so_assets.storage.datasets import questions_between
    from so_assets.storage.embedding_kinds import VECTORS
    from so_assets.tagtree.geometry import question_directions

    after = np.datetime64(cutoff) if cutoff else None
    ids, tag_lists = questions_between(stores.questions, after, day - timedelta(days=FRESH_DAYS),
                                       day)
    if not len(ids):
        return [[] for _ in range(len(inputs))]
    first = day - timedelta(days=FRESH_DAYS)
    vectors = load_dense(stores.embeddings, VECTORS, ids, ["title", "body"],
                         days=[first + timedelta(days=i) for i in range(FRESH_DAYS)])
    return new_tag_votes(question_directions(inputs.title_vectors, inputs.body_vectors),
                         question_directions(vectors["title"], vectors["body"]), tag_lists,
                         known)


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
    from so_assets.models.prediction.assemble import load_day

    serving, model = serving_model(stores, "score")
    targets = orphan_targets(stores)
    busy = _days_to_predict(stores, "score_predictions", days)
    per_day, rows_written = dict.fromkeys(days, 0), 0
    for day in busy:
        inputs = load_day(stores, day, model.labels, model.needs, targets)
        inputs.score_age_days = np.full(len(inputs), params.horizon_days)
        scores = model.predict_scores(inputs)
        n = len(inputs)
        rows_written += replace_day_rows(stores.questions, "score_predictions", day, {
            "question_id": inputs.question_ids.tolist(), "model": [serving.name] * n,
            "version": [serving.version] * n, "horizon_days": [params.horizon_days] * n,
            "score": scores.score.astype(float).tolist(),
            "low": (scores.score_low.astype(float).tolist() if scores.score_low is not None
                    else [None] * n),
            "high": (scores.score_high.astype(float).tolist() if scores.score_high is not None
                     else [None] * n),
            "predicted_at": [datetime.now(UTC).replace(tzinfo=None)] * n})
        per_day[day] = n
    log.info("scored %d questions over %d day(s) with %s %s", sum(per_day.values()),
             len(per_day), serving.name, serving.version)
    return PredictionsResult(serving.name, serving.version, sum(per_day.values()),
                             rows_written, per_day)
