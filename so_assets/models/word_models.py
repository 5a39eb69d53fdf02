"""Models over the words themselves, not the stored vectors: a bag of hashed word and bigram
ids (``nn.EmbeddingBag``) and recurrent networks over a training-split vocabulary."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from so_assets.models.base import TrainResult
from so_assets.models.data import Inputs, TrainingData
from so_assets.models.linear import question_text
from so_assets.models.text_ids import Vocabulary, hashed_ngrams
from so_assets.models.two_heads import ClusterTagModel

if TYPE_CHECKING:
    import torch


class EmbeddingBagModel(ClusterTagModel):
    """The PyTorch reference's bag of n-grams: word and bigram ids hashed into a fixed number of
    buckets (memory does not grow with the corpus), averaged by ``nn.EmbeddingBag``, one
    linear layer per output; class-weighted BCE, early stopping, gradient clipping. No weight
    decay: it would shrink every rarely seen n-gram's row at every step."""

    family = "embedding_bag"
    score_batch_size = 4096

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.networks import NgramBag

        p = self.params
        return NgramBag(p.get("buckets", 2**17), p.get("dim", 64), self.labels.n_clusters,
                        self.labels.n_tags)

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        return [hashed_ngrams(question_text(inputs.titles, inputs.bodies),
                              self.params.get("buckets", 2**17),
                              self.params.get("max_ngrams", 600))]


class RecurrentModel(ClusterTagModel):
    """LSTM over the title, GRU over the body, a word embedding trained from scratch on a
    vocabulary of the training split; the title branch also feeds auxiliary heads."""

    family = "recurrent"

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        p = self.params
        self.vocabulary = Vocabulary.build(
            (f"{t} {b}" for t, b in zip(data.train.titles, data.train.bodies, strict=True)),
            p.get("vocabulary", 30_000))
        if log:
            log.info("recurrent: vocabulary of %d words from %d training questions",
                     len(self.vocabulary), len(data.train))
        return super().fit(data, checkpoint=checkpoint, log=log)

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.networks import TitleBodyRecurrent

        p = self.params
        return TitleBodyRecurrent(len(self.vocabulary), self.labels.n_clusters,
                                  self.labels.n_tags, embed=p.get("embed", 128),
                                  hidden=p.get("hidden", 128))

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        p = self.params
        return [self.vocabulary.ids(inputs.titles, p.get("title_words", 24)),
                self.vocabulary.ids(inputs.bodies, p.get("body_words", 200))]

    def save_state(self, directory: Path) -> None:
        (directory / "vocabulary.json").write_text(json.dumps(self.vocabulary.tokens))
        super().save_state(directory)

    def load_state(self, directory: Path) -> None:
        self.vocabulary = Vocabulary(json.loads((directory / "vocabulary.json").read_text()))
        super().load_state(directory)
