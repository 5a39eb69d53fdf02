"""The sequence-aware dual-stream model over the stored token sequences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from so_assets.models.core.base import Need, Scores, TagModel
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.models.training.config import Loss, SequenceTorchParams, TrainConfig
from so_assets.models.training.torch_model import TorchModel, make_loss
from so_assets.params import param
from so_assets.storage.embedding_kinds import TOKEN_FIELDS

if TYPE_CHECKING:
    import torch



@dataclass(frozen=True)
class SequenceParams(SequenceTorchParams):
    hidden: int = param(256, "Width of the convolution and attention layers.", ge=1)
    loss: Loss = param("focal", "The training loss.")
    train: TrainConfig = param(TrainConfig(epochs=40, lr=5e-4, batch_size=64),
                               "The training loop's settings.")


class SequenceModel(TorchModel, TagModel):
    """Training streams [4 + 32, d] sequences from HDF5 (a shuffle buffer at a time), read once
    when they fit in ``stream_memory_mb``."""

    family = "sequence_dsf"
    needs = frozenset({Need.TOKENS})
    score_batch_size = 256
    params_class = SequenceParams
    params: SequenceParams

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.training.networks import SequenceDSF

        return SequenceDSF(dim, self.labels.n_clusters, hidden=self.params.hidden)

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        if inputs.tokens is None:
            raise ValueError(f"{self.family} needs token sequences (question_token_embeddings)")
        return [inputs.tokens[name] for name in TOKEN_FIELDS]

    def training_batches(self, data: TrainingData, config: TrainConfig):
        from so_assets.models.training.sequence_stream import SequenceStream

        loss_fn = make_loss(self.params.loss, data.train.clusters)
        stream = SequenceStream(data.vectors, data.train.question_ids, data.train.clusters,
                                batch_size=config.batch_size, seed=config.seed,
                                memory_mb=self.params.stream_memory_mb)

        def loss_of_batch(network, batch, device):
            title, title_mask, body, body_mask, y, _ = (t.to(device) for t in batch)
            return loss_fn.to(device)(network(title, title_mask, body, body_mask), y)

        return (lambda: iter(stream)), loss_of_batch

    def outputs(self, network, batch):
        import torch

        return [torch.sigmoid(network(*batch))]

    def to_scores(self, outputs: list[np.ndarray]) -> Scores:
        return Scores(clusters=outputs[0])
