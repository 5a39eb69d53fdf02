"""Models over the words themselves, not the stored vectors: a bag of hashed word and bigram
ids (``nn.EmbeddingBag``) and recurrent networks over a training-split vocabulary."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from so_assets.models.core.base import TrainResult
from so_assets.models.core.data import Inputs, TrainingData, question_text
from so_assets.models.tags.text_ids import Vocabulary, hashed_ngrams
from so_assets.models.tags.two_heads import ClusterTagModel, ClusterTagParams
from so_assets.models.training.config import TrainConfig
from so_assets.params import param

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class EmbeddingBagParams(ClusterTagParams):
    buckets: int = param(2**17, "Hash buckets of the word and bigram ids.", ge=1)
    dim: int = param(64, "Width of every bucket's embedding.", ge=1)
    max_ngrams: int = param(600, "Word and bigram ids read per question at most.", ge=1)
    train: TrainConfig = param(TrainConfig(epochs=40, lr=2e-2, batch_size=128, patience=4,
                                           weight_decay=0.0, threads=1),
                               "The training loop's settings.")


@dataclass(frozen=True)
class RecurrentParams(ClusterTagParams):
    vocabulary: int = param(30_000, "Most frequent training-split words embedded.", ge=1)
    embed: int = param(64, "Width of the word embedding.", ge=1)
    hidden: int = param(64, "Width of the LSTM and GRU states.", ge=1)
    title_words: int = param(24, "Title words read.", ge=1)
    body_words: int = param(120, "Body words read (the first ones).", ge=1)
    aux_weight: float = param(0.3, "Weight of the title-only auxiliary heads' loss.", ge=0)
    train: TrainConfig = param(TrainConfig(epochs=10, lr=1e-2, scheduler="onecycle",
                                           batch_size=64, patience=4, threads=1, bf16=False),
                               "The training loop's settings (one cycle over 10 epochs: on "
                               "biology the validation figures of 15 epochs at a plateau "
                               "rate, in 59 % of the time).")


class EmbeddingBagModel(ClusterTagModel):
    """The PyTorch reference's bag of n-grams: word and bigram ids hashed into a fixed number of
    buckets (memory does not grow with the corpus), averaged by ``nn.EmbeddingBag``, one
    linear layer per output; class-weighted BCE, early stopping, gradient clipping. No weight
    decay: it would shrink every rarely seen n-gram's row at every step."""

    family = "embedding_bag"
    score_batch_size = 4096
    params_class = EmbeddingBagParams
    params: EmbeddingBagParams

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.training.networks import NgramBag

        p = self.params
        return NgramBag(p.buckets, p.dim, self.labels.n_clusters, self.labels.n_tags)

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        return [hashed_ngrams(question_text(inputs.titles, inputs.bodies),
                              self.params.buckets, self.params.max_ngrams)]


class RecurrentModel(ClusterTagModel):
    """LSTM over the title, GRU over the body, a word embedding trained from scratch on a
    vocabulary of the training split; the title branch also feeds auxiliary heads."""

    family = "recurrent"
    params_class = RecurrentParams
    params: RecurrentParams

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        p = self.params
        self.vocabulary = Vocabulary.build(
            (f"{t} {b}" for t, b in zip(data.train.titles, data.train.bodies, strict=True)),
            p.vocabulary)
        if log:
            log.info("recurrent: vocabulary of %d words from %d training questions",
                     len(self.vocabulary), len(data.train))
        return super().fit(data, checkpoint=checkpoint, log=log)

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.training.networks import TitleBodyRecurrent

        p = self.params
        return TitleBodyRecurrent(len(self.vocabulary), self.labels.n_clusters,
                                  self.labels.n_tags, embed=p.embed, hidden=p.hidden)

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        p = self.params
        return [self.vocabulary.ids(inputs.titles, p.title_words),
                self.vocabulary.ids(inputs.bodies, p.body_words)]

    def save_state(self, directory: Path) -> None:
        (directory / "vocabulary.json").write_text(json.dumps(self.vocabulary.tokens))
        super().save_state(directory)

    def load_state(self, directory: Path) -> None:
        self.vocabulary = Vocabulary(json.loads((directory / "vocabulary.json").read_text()))
        super().load_state(directory)
