"""Torch models over the title and body vectors: MLP, dual-stream fusion, hierarchical."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from so_assets.models.core.base import Scores, TagModel, Target
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.models.training.config import Loss, TorchParams, TrainConfig
from so_assets.models.training.torch_model import FloatRows, TorchModel, make_loss, minibatches
from so_assets.params import param

if TYPE_CHECKING:
    import torch



class VectorModel(TorchModel):
    """A torch model reading the title and body vectors, trained from memory."""

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        return [inputs.title_vectors, inputs.body_vectors]


@dataclass(frozen=True)
class TorchDenseParams(TorchParams):
    network: Literal["mlp", "dsf_mhsa", "dsf_cross_attention"] = param(
        "mlp", "An MLP on [title, body], or dual-stream fusion by self- or cross-attention.")
    loss: Loss = param("bce", "The training loss.")
    hidden: int = param(512, "Width of the hidden layers.", ge=1)
    n_tokens: int = param(4, "Learned tokens per stream (dual-stream fusion only).", ge=1)
    train: TrainConfig = param(TrainConfig(epochs=60), "The training loop's settings.")


@dataclass(frozen=True)
class HierarchicalParams(TorchParams):
    hidden: int = param(512, "Width of the shared trunk.", ge=1)
    train: TrainConfig = param(TrainConfig(epochs=60), "The training loop's settings.")


class TorchDense(VectorModel, TagModel):
    """An MLP or a dual-stream fusion network over the title and body vectors."""

    family = "torch_dense"
    shares_state = True
    params_class = TorchDenseParams
    params: TorchDenseParams

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.training.networks import MLP, DualStreamFusion

        p = self.params
        if p.network == "mlp":
            return MLP(2 * dim, self.labels.n_clusters, hidden=p.hidden)
        fusion = "self" if p.network == "dsf_mhsa" else "cross"
        return DualStreamFusion(dim, self.labels.n_clusters, fusion=fusion, hidden=p.hidden,
                                n_tokens=p.n_tokens)

    def training_batches(self, data: TrainingData, config: TrainConfig):
        loss_fn = make_loss(self.params.loss, data.train.clusters)
        train = data.train
        batches = minibatches([train.title_vectors, train.body_vectors, train.clusters],
                              config.batch_size, config.seed)

        def loss_of_batch(network, batch, device):
            title, body, y = (t.to(device) for t in batch)
            logits, targets = network(title, body, targets=y, mixup_alpha=config.mixup_alpha)
            return loss_fn.to(device)(logits, targets)

        return batches, loss_of_batch

    def outputs(self, network, batch):
        import torch

        return [torch.sigmoid(network(*batch)[0])]

    def to_scores(self, outputs: list[np.ndarray]) -> Scores:
        return Scores(clusters=outputs[0])


class Hierarchical(VectorModel, TagModel):
    """Cluster first, then the kept tags inside the likely clusters (see HierarchicalHeads)."""

    family = "hierarchical"
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    params_class = HierarchicalParams
    params: HierarchicalParams

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.training.networks import HierarchicalHeads

        return HierarchicalHeads(dim, self.labels.n_clusters, self.labels.tag_cluster,
                                 hidden=self.params.hidden)

    def training_batches(self, data: TrainingData, config: TrainConfig):
        train = data.train
        cluster_loss = make_loss("bce", train.clusters)
        tag_loss = make_loss("bce", train.tags)
        batches = minibatches([train.title_vectors, train.body_vectors, train.clusters,
                               FloatRows(train.tags)], config.batch_size, config.seed)

        def loss_of_batch(network, batch, device):
            title, body, clusters, tags = (t.to(device) for t in batch)
            cluster_logits, tag_logits = network(title, body)
            return cluster_loss.to(device)(cluster_logits, clusters) + tag_loss.to(device)(
                tag_logits, tags)

        return batches, loss_of_batch

    def outputs(self, network, batch):
        import torch

        cluster_logits, tag_logits = network(*batch)
        return [torch.sigmoid(cluster_logits), network.tag_scores(cluster_logits, tag_logits)]

    def to_scores(self, outputs: list[np.ndarray]) -> Scores:
        return Scores(clusters=outputs[0], tags=outputs[1])
