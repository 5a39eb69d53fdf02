"""Predict tags for new text from saved artifacts only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.embedding.config import BODY_SEGMENTS, TITLE_SEGMENTS, EncoderConfig
from so_assets.models.core.base import Model, Need, ScoreModel, TagModel
from so_assets.models.core.data import Inputs
from so_assets.models.publication.artifacts import (
    current_dir,
    published_models,
    read_metrics,
    version_path,
)
from so_assets.models.publication.production import Production, read_production
from so_assets.models.registry import SCORE_MODELS, TAG_MODELS, load_model, score_model, tag_model
from so_assets.stackexchange.html_text import CODE_START, html_to_text


@dataclass
class Prediction:
    model: str
    clusters: list[tuple[str, float, bool]]  # name, score, above its threshold
    tags: list[tuple[str, float, bool]]
    tags_from_cluster: bool  # a cluster-only model: tags are its top cluster's members
    chosen_clusters: np.ndarray  # [k] the clusters above their thresholds
    chosen_tags: list[str]  # the kept tags above their thresholds (empty for cluster-only)
    inputs: Inputs


@dataclass
class ScorePrediction:
    model: str
    score: float
    low: float | None
    high: float | None
    horizon_days: float


def load_production(models_dir: Path, task: str) -> tuple[Production, Model] | None:
    """The serving model of ``task`` ("tag" or "score") and its record; None before the
    first promotion."""
    serving = read_production(models_dir).get(task)
    if serving is None:
        return None
    return serving, load_model(version_path(models_dir, serving.asset, serving.version))


def best_tag_model(models_dir: Path) -> str:
    """The published tag model with the highest validation micro-F1."""
    published = set(published_models(models_dir))
    names = [s.name for s in TAG_MODELS if s.asset_name in published]
    if not names:
        raise FileNotFoundError(f"no trained tag models under {models_dir}: run the pipeline "
                                "first")
    return max(names, key=lambda n: read_metrics(models_dir, tag_model(n).asset_name)[
        "validation"]["micro_f1"])


def load_tag_model(models_dir: Path, name: str | None) -> tuple[str, TagModel, EncoderConfig]:
    """A registered tag model and its encoder's config: by default the production model
    (the best published on validation before any promotion). Only registered names and
    recorded versions are accepted, so loading never leaves ``models_dir``."""
    serving = read_production(models_dir).get("tag") if name is None else None
    if serving is not None:
        name, folder = serving.name, version_path(models_dir, serving.asset, serving.version)
    else:
        name = name or best_tag_model(models_dir)
        folder = current_dir(models_dir, tag_model(name).asset_name)
    encoder = EncoderConfig(**json.loads((folder / "encoder.json").read_text()))
    model = load_model(folder)
    if not isinstance(model, TagModel):
        raise ValueError(f"{folder} does not hold a tag model")
    return name, model, encoder


def encode_questions(encoder, model_needs, titles: list[str], bodies: list[str]) -> Inputs:
    """Questions' inputs, embedded as the pipeline embeds them (all in one encoder call per
    field: a batch costs about one forward pass per field)."""
    with_tokens = Need.TOKENS in model_needs
    title_out = encoder.encode(titles, is_query=True, max_length=encoder.config.title_max_length,
                               segments=TITLE_SEGMENTS if with_tokens else 0)
    body_out = encoder.encode(bodies, is_query=True,
                              segments=BODY_SEGMENTS if with_tokens else 0)
    tokens = None
    if with_tokens:
        tokens = {"title": title_out.segments, "title_mask": title_out.segment_mask,
                  "body": body_out.segments, "body_mask": body_out.segment_mask}
    return Inputs(question_ids=np.zeros(len(titles), np.int64), titles=list(titles),
                  bodies=list(bodies), title_vectors=title_out.vectors,
                  body_vectors=body_out.vectors, tokens=tokens)


def predict_many(name: str, model: TagModel, encoder, questions: list[tuple[str, str]],
                 top: int = 5) -> list[Prediction]:
    """Top clusters and tags for each (title, body) (bodies may be HTML or plain text)."""
    texts = [html_to_text(body) if body else "" for _, body in questions]
    inputs = encode_questions(encoder, model.needs, [t for t, _ in questions], texts)
    scores = model.predict_scores(inputs)
    chosen_clusters, chosen_tags = model.decide(scores)
    labels = model.labels
    out = []
    for row in range(len(questions)):
        one = inputs.subset(np.array([row]))
        order = np.argsort(-scores.clusters[row])[:top]
        clusters = [(labels.cluster_names[i], float(scores.clusters[row, i]),
                     bool(chosen_clusters[row, i])) for i in order]
        if scores.tags is not None:
            tag_order = np.argsort(-scores.tags[row])[:top]
            tags = [(labels.tags[i], float(scores.tags[row, i]), bool(chosen_tags[row, i]))
                    for i in tag_order]
            chosen = [labels.tags[i] for i in np.flatnonzero(chosen_tags[row])]
            out.append(Prediction(name, clusters, tags, False, chosen_clusters[row], chosen,
                                  one))
            continue
        first = order[0]  # a cluster-only model: its top cluster's kept tags, most used first
        tags = [(t, float(scores.clusters[row, first]), bool(chosen_clusters[row, first]))
                for t, c in zip(labels.tags, labels.tag_cluster, strict=True)
                if c == first][:top]
        out.append(Prediction(name, clusters, tags, True, chosen_clusters[row], [], one))
    return out


def predict(name: str, model: TagModel, encoder, title: str, body: str, top: int = 5
            ) -> Prediction:
    """Top clusters and tags for one question (body may be HTML or plain text)."""
    return predict_many(name, model, encoder, [(title, body)], top)[0]


def best_score_model(models_dir: Path) -> str | None:
    """The published score model with the lowest validation error (None when there is none)."""
    published = set(published_models(models_dir))
    names = [s.name for s in SCORE_MODELS if s.asset_name in published]
    if not names:
        return None
    return min(names, key=lambda n: read_metrics(models_dir, score_model(n).asset_name)[
        "validation"]["rmse_target"])


def load_score_model(models_dir: Path, name: str | None) -> tuple[str, ScoreModel] | None:
    """A registered score model: by default the production one (the best published on
    validation before any promotion); None when none is published and none is named."""
    serving = read_production(models_dir).get("score") if name is None else None
    if serving is not None:
        name = serving.name
        model = load_model(version_path(models_dir, serving.asset, serving.version))
    else:
        name = name or best_score_model(models_dir)
        if name is None:
            return None
        model = load_model(current_dir(models_dir, score_model(name).asset_name))
    if not isinstance(model, ScoreModel):
        raise ValueError(f"{name} is not a score model")
    return name, model


def score_many(name: str, model: ScoreModel, tagged: list[Prediction],
               tags: list[list[str] | None], reputation: float | None, horizon_days: float
               ) -> list[ScorePrediction]:
    """The score each ``tagged`` question may reach after ``horizon_days``: with its own
    tags when given, else with the tags (or clusters) the tag model chose."""
    labels = model.labels
    cluster_of = dict(zip(labels.tags, labels.tag_cluster, strict=True))
    clusters = np.zeros((len(tagged), labels.n_clusters), np.float32)
    n_tags = np.zeros(len(tagged))
    for row, (prediction, own) in enumerate(zip(tagged, tags, strict=True)):
        if own is not None:
            clusters[row, [cluster_of[t] for t in own if t in cluster_of]] = 1
            n_tags[row] = len(own)
        else:
            clusters[row, : len(prediction.chosen_clusters)] = prediction.chosen_clusters
            n_tags[row] = len(prediction.chosen_tags) or int(prediction.chosen_clusters.sum())
    parts = [p.inputs for p in tagged]
    n = len(parts)
    question = Inputs(
        question_ids=np.zeros(n, np.int64), titles=[p.titles[0] for p in parts],
        bodies=[p.bodies[0] for p in parts],
        title_vectors=np.vstack([p.title_vectors for p in parts]),
        body_vectors=np.vstack([p.body_vectors for p in parts]),
        tokens=({k: np.concatenate([p.tokens[k] for p in parts]) for k in parts[0].tokens}
                if parts[0].tokens is not None else None),
        clusters=clusters, score_age_days=np.full(n, horizon_days),
        columns={"creation_date": np.full(n, np.datetime64("now", "s")),
                 "code_block_count": np.array([p.bodies[0].count(CODE_START) for p in parts],
                                              float),
                 "num_tags": n_tags,
                 "owner_reputation": np.full(n, np.nan if reputation is None else reputation)})
    scores = model.predict_scores(question)
    return [ScorePrediction(name, float(scores.score[i]),
                            None if scores.score_low is None else float(scores.score_low[i]),
                            None if scores.score_high is None else float(scores.score_high[i]),
                            horizon_days) for i in range(n)]


def predict_score(models_dir: Path, name: str | None, tagged: Prediction,
                  tags: list[str] | None, reputation: float | None, horizon_days: float
                  ) -> ScorePrediction | None:
    """One question's score (see :func:`score_many`); None when no score model is published
    and none is named; by default the production score model."""
    loaded = load_score_model(models_dir, name)
    if loaded is None:
        return None
    return score_many(*loaded, [tagged], [tags], reputation, horizon_days)[0]
