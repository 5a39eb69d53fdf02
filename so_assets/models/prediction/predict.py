"""Predict tags for new text from saved artifacts only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.embedding.config import BODY_SEGMENTS, TITLE_SEGMENTS, EncoderConfig
from so_assets.models.core.base import Need, ScoreModel, TagModel
from so_assets.models.core.data import Inputs
from so_assets.models.publication.artifacts import current_dir, published_models, read_metrics
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
    """A registered tag model (the best on validation by default) and its encoder's config.
    Only registered names are accepted, so loading never leaves ``models_dir``."""
    name = name or best_tag_model(models_dir)
    folder = current_dir(models_dir, tag_model(name).asset_name)
    encoder = EncoderConfig(**json.loads((folder / "encoder.json").read_text()))
    model = load_model(folder)
    if not isinstance(model, TagModel):
        raise ValueError(f"{folder} does not hold a tag model")
    return name, model, encoder


def encode_question(encoder, model_needs, title: str, body_text: str) -> Inputs:
    """One question's inputs, embedded as the pipeline embeds them."""
    with_tokens = Need.TOKENS in model_needs
    title_out = encoder.encode([title], is_query=True, max_length=encoder.config.title_max_length,
                               segments=TITLE_SEGMENTS if with_tokens else 0)
    body_out = encoder.encode([body_text], is_query=True,
                              segments=BODY_SEGMENTS if with_tokens else 0)
    tokens = None
    if with_tokens:
        tokens = {"title": title_out.segments, "title_mask": title_out.segment_mask,
                  "body": body_out.segments, "body_mask": body_out.segment_mask}
    return Inputs(question_ids=np.zeros(1, np.int64), titles=[title], bodies=[body_text],
                  title_vectors=title_out.vectors, body_vectors=body_out.vectors, tokens=tokens)


def predict(name: str, model: TagModel, encoder, title: str, body: str, top: int = 5
            ) -> Prediction:
    """Top clusters and tags for one question (body may be HTML or plain text)."""
    text = html_to_text(body) if body else ""
    inputs = encode_question(encoder, model.needs, title, text)
    scores = model.predict_scores(inputs)
    chosen_clusters, chosen_tags = model.decide(scores)
    labels = model.labels
    order = np.argsort(-scores.clusters[0])[:top]
    clusters = [(labels.cluster_names[i], float(scores.clusters[0, i]),
                 bool(chosen_clusters[0, i])) for i in order]
    if scores.tags is not None:
        tag_order = np.argsort(-scores.tags[0])[:top]
        tags = [(labels.tags[i], float(scores.tags[0, i]), bool(chosen_tags[0, i]))
                for i in tag_order]
        chosen = [labels.tags[i] for i in np.flatnonzero(chosen_tags[0])]
        return Prediction(name, clusters, tags, False, chosen_clusters[0], chosen, inputs)
    first = order[0]  # a cluster-only model: the kept tags of its top cluster, most used first
    tags = [(t, float(scores.clusters[0, first]), bool(chosen_clusters[0, first]))
            for t, c in zip(labels.tags, labels.tag_cluster, strict=True) if c == first][:top]
    return Prediction(name, clusters, tags, True, chosen_clusters[0], [], inputs)


def best_score_model(models_dir: Path) -> str | None:
    """The published score model with the lowest validation error (None when there is none)."""
    published = set(published_models(models_dir))
    names = [s.name for s in SCORE_MODELS if s.asset_name in published]
    if not names:
        return None
    return min(names, key=lambda n: read_metrics(models_dir, score_model(n).asset_name)[
        "validation"]["rmse_target"])


def predict_score(models_dir: Path, name: str | None, tagged: Prediction,
                  tags: list[str] | None, reputation: float | None, horizon_days: float
                  ) -> ScorePrediction | None:
    """The score ``tagged``'s question may reach after ``horizon_days``: with its own ``tags``
    when given, else with the tags (or clusters) the tag model chose. None when no score model
    is published and none is named."""
    name = name or best_score_model(models_dir)
    if name is None:
        return None
    model = load_model(current_dir(models_dir, score_model(name).asset_name))
    if not isinstance(model, ScoreModel):
        raise ValueError(f"{name} is not a score model")
    labels = model.labels
    clusters = np.zeros((1, labels.n_clusters), np.float32)
    if tags is not None:
        cluster_of = dict(zip(labels.tags, labels.tag_cluster, strict=True))
        clusters[0, [cluster_of[t] for t in tags if t in cluster_of]] = 1
        n_tags = len(tags)
    else:
        clusters[0, : len(tagged.chosen_clusters)] = tagged.chosen_clusters
        n_tags = len(tagged.chosen_tags) or int(tagged.chosen_clusters.sum())
    inputs = tagged.inputs
    question = Inputs(
        question_ids=inputs.question_ids, titles=inputs.titles, bodies=inputs.bodies,
        title_vectors=inputs.title_vectors, body_vectors=inputs.body_vectors,
        tokens=inputs.tokens, clusters=clusters, score_age_days=np.array([horizon_days]),
        columns={"creation_date": np.array([np.datetime64("now", "s")]),
                 "code_block_count": np.array([inputs.bodies[0].count(CODE_START)], float),
                 "num_tags": np.array([n_tags], float),
                 "owner_reputation": np.array([np.nan if reputation is None else reputation])})
    scores = model.predict_scores(question)
    return ScorePrediction(
        name, float(scores.score[0]),
        None if scores.score_low is None else float(scores.score_low[0]),
        None if scores.score_high is None else float(scores.score_high[0]), horizon_days)
