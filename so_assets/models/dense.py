"""Torch models over the title and body vectors: MLP, dual-stream fusion, hierarchical."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from so_assets.models.base import Scores, TagModel, Target
from so_assets.models.data import Inputs, TrainingData
from so_assets.models.torch_model import TorchModel, make_loss, minibatches

if TYPE_CHECKING:
    import torch

    from so_assets.models.torch_loop import TrainConfig


class VectorModel(TorchModel):
    """A torch model reading the title and body vectors, trained from memory."""

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        return [inputs.title_vectors, inputs.body_vectors]


class TorchDense(VectorModel, TagModel):
    """``params["network"]``: ``mlp``, ``dsf_mhsa`` or ``dsf_cross_attention``."""

    family = "torch_dense"
    shares_state = True

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.networks import MLP, DualStreamFusion

        p = self.params
        if p["network"] == "mlp":
            return MLP(2 * dim, self.labels.n_clusters, hidden=p.get("hidden", 512))
        fusion = "self" if p["network"] == "dsf_mhsa" else "cross"
        return DualStreamFusion(dim, self.labels.n_clusters, fusion=fusion,
                                hidden=p.get("hidden", 256), n_tokens=p.get("n_tokens", 4))

    def training_batches(self, data: TrainingData, config: TrainConfig):
        loss_fn = make_loss(self.params.get("loss", "bce"), data.train.clusters)
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

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.networks import HierarchicalHeads

        return HierarchicalHeads(dim, self.labels.n_clusters, self.labels.tag_cluster,
                                 hidden=self.params.get("hidden", 512))

    def training_batches(self, data: TrainingData, config: TrainConfig):
        train = data.train
        cluster_loss = make_loss("bce", train.clusters)
        tag_loss = make_loss("bce", train.tags)
        batches = minibatches([train.title_vectors, train.body_vectors, train.clusters,
                               train.tags], config.batch_size, config.seed)

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
