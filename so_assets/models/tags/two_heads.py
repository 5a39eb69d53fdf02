"""Torch tag models whose network scores clusters and kept tags together (and, optionally, an
auxiliary pair of heads trained with a smaller weight): one loss, one batching, one scoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from so_assets.models.core.base import Scores, TagModel, Target
from so_assets.models.core.data import TrainingData
from so_assets.models.training.config import Loss, TorchParams, TrainConfig
from so_assets.models.training.torch_model import FloatRows, TorchModel, make_loss, minibatches
from so_assets.params import param

if TYPE_CHECKING:
    import torch



@dataclass(frozen=True)
class ClusterTagParams(TorchParams):
    loss: Loss = param("bce", "The loss of both heads.")
    aux_weight: float = param(0.0, "Weight of the auxiliary heads' loss (networks that have "
                                   "them).", ge=0)


class ClusterTagModel(TorchModel, TagModel):
    """The network returns (cluster logits, tag logits[, aux cluster logits, aux tag logits]);
    the loss is ``params.loss`` on both, plus ``params.aux_weight`` times the same on the
    auxiliary pair."""

    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    params_class = ClusterTagParams
    params: ClusterTagParams

    def training_batches(self, data: TrainingData, config: TrainConfig):
        train = data.train
        name = self.params.loss
        cluster_loss, tag_loss = make_loss(name, train.clusters), make_loss(name, train.tags)
        aux_weight = self.params.aux_weight
        batches = minibatches([*self.network_inputs(train), train.clusters, FloatRows(train.tags)],
                              config.batch_size, config.seed)

        def loss_of_batch(network, batch, device):
            *inputs, clusters, tags = (t.to(device) for t in batch)
            logits = network(*inputs)
            loss = (cluster_loss.to(device)(logits[0], clusters)
                    + tag_loss.to(device)(logits[1], tags))
            if len(logits) > 2 and aux_weight:
                loss = loss + aux_weight * (cluster_loss(logits[2], clusters)
                                            + tag_loss(logits[3], tags))
            return loss

        return batches, loss_of_batch

    def outputs(self, network: torch.nn.Module, batch: list[torch.Tensor]
                ) -> list[torch.Tensor]:
        import torch

        logits = network(*batch)
        return [torch.sigmoid(logits[0]), torch.sigmoid(logits[1])]

    def to_scores(self, outputs: list[np.ndarray]) -> Scores:
        return Scores(clusters=outputs[0], tags=outputs[1])
