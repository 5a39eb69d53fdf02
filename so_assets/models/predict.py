"""Predict tags for new text from saved artifacts only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from so_assets.embedding.encoder import EncoderConfig, TextEncoder
from so_assets.embedding.question_vectors import BODY_SEGMENTS, TITLE_SEGMENTS
from so_assets.models.artifacts import current_dir, published_models, read_metrics
from so_assets.models.base import Inputs, Predictor
from so_assets.models.registry import load_predictor
from so_assets.stackexchange.html_text import html_to_text


@dataclass
class Prediction:
    model: str
    clusters: list[tuple[str, float, bool]]  # name, score, above its threshold
    tags: list[tuple[str, float, bool]]


def best_model(models_dir: Path) -> str:
    """The published model with the highest validation micro-F1."""
    names = published_models(models_dir)
    if not names:
        raise FileNotFoundError(f"no trained models under {models_dir}: run the pipeline first")
    return max(names, key=lambda n: read_metrics(models_dir, n)["validation"]["micro_f1"])


def load_model(models_dir: Path, name: str | None) -> tuple[str, Predictor, TextEncoder]:
    name = name or best_model(models_dir)
    folder = current_dir(models_dir, name)
    encoder = TextEncoder(EncoderConfig(**json.loads((folder / "encoder.json").read_text())))
    return name, load_predictor(folder), encoder


def predict(name: str, predictor: Predictor, encoder: TextEncoder, title: str, body: str,
            top: int = 5) -> Prediction:
    """Top clusters and tags for one question (body may be HTML or plain text)."""
    text = html_to_text(body) if body else ""
    with_tokens = predictor.needs_tokens
    title_out = encoder.encode([title], is_query=True, max_length=encoder.config.title_max_length,
                               segments=TITLE_SEGMENTS if with_tokens else 0)
    body_out = encoder.encode([text], is_query=True, segments=BODY_SEGMENTS if with_tokens else 0)
    tokens = None
    if with_tokens:
        tokens = {"title": title_out.segments, "title_mask": title_out.segment_mask,
                  "body": body_out.segments, "body_mask": body_out.segment_mask}
    inputs = Inputs([title], [text], title_out.vectors, body_out.vectors, tokens)
    scores, chosen = predictor.predict_clusters(inputs)
    labels = predictor.labels
    order = np.argsort(-scores[0])[:top]
    clusters = [(labels.cluster_names[i], float(scores[0, i]), bool(chosen[0, i])) for i in order]
    tag_scores = predictor.tag_scores(inputs)
    if tag_scores is not None:
        tag_order = np.argsort(-tag_scores[0])[:top]
        tags = [(labels.tags[i], float(tag_scores[0, i]),
                 bool(tag_scores[0, i] >= predictor.tag_thresholds[i])) for i in tag_order]
    else:  # a cluster-only model: the kept tags of its top cluster, most used first
        first = order[0]
        tags = [(t, float(scores[0, first]), bool(chosen[0, first]))
                for t, c in zip(labels.tags, labels.tag_cluster, strict=True) if c == first][:top]
    return Prediction(name, clusters, tags)
