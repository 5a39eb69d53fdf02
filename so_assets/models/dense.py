"""Torch models over the title and body vectors: MLP, dual-stream fusion, hierarchical."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from so_assets.models.base import Inputs, Predictor, TrainingData
from so_assets.models.losses import AsymmetricLoss, FocalLoss, WeightedBCE, positive_weights
from so_assets.models.networks import MLP, DualStreamFusion, HierarchicalHeads
from so_assets.models.trainer import TrainConfig, TrainResult, train_network


def make_loss(name: str, targets: np.ndarray) -> torch.nn.Module:
    if name == "asl":
        return AsymmetricLoss(gamma_neg=4.0, gamma_pos=1.0)
    if name == "focal":
        return FocalLoss(gamma=2.0, smoothing=0.1)
    return WeightedBCE(positive_weights(torch.from_numpy(targets)))


def minibatches(arrays: list[np.ndarray], batch_size: int, seed: int):
    """A fresh shuffled pass over in-memory arrays each time it is called."""
    epoch = [0]

    def batches():
        rng = np.random.default_rng(seed + epoch[0])
        epoch[0] += 1
        order = rng.permutation(len(arrays[0]))
        for lo in range(0, len(order), batch_size):
            pick = order[lo : lo + batch_size]
            yield [torch.from_numpy(a[pick]) for a in arrays]

    return batches


class TorchPredictor(Predictor):
    """A predictor whose state is one torch network built from the input width."""

    def build(self, dim: int) -> torch.nn.Module:
        raise NotImplementedError

    def save_state(self, directory: Path) -> None:
        torch.save({"dim": self.dim, "state": self.network.state_dict()}, directory / "model.pt")

    def load_state(self, directory: Path) -> None:
        saved = torch.load(directory / "model.pt", weights_only=True)
        self.dim = saved["dim"]
        self.network = self.build(self.dim)
        self.network.load_state_dict(saved["state"])
        self.network.eval()


class TorchDense(TorchPredictor):
    """``params["network"]``: ``mlp``, ``dsf_mhsa`` or ``dsf_cross_attention``."""

    family = "torch_dense"

    def build(self, dim: int) -> torch.nn.Module:
        p = self.params
        if p["network"] == "mlp":
            return MLP(dim, self.labels.n_clusters, hidden=p.get("hidden", 512))
        fusion = "self" if p["network"] == "dsf_mhsa" else "cross"
        return DualStreamFusion(dim, self.labels.n_clusters, fusion=fusion,
                                hidden=p.get("hidden", 256), n_tokens=p.get("n_tokens", 4))

    def fit(self, data: TrainingData, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        p = self.params
        self.dim = data.train.title_vectors.shape[1]
        self.network = self.build(self.dim)
        config = TrainConfig(**p.get("train", {}))
        loss_fn = make_loss(p.get("loss", "bce"), data.train.clusters)
        train = data.train
        batches = minibatches([train.title_vectors, train.body_vectors, train.clusters],
                              config.batch_size, config.seed)

        def loss_of_batch(model, batch, device):
            title, body, y = (t.to(device) for t in batch)
            logits, targets = model(title, body, targets=y, mixup_alpha=config.mixup_alpha)
            return loss_fn.to(device)(logits, targets)

        def validation_scores(model, device):
            return self._scores(model, data.inputs(data.validation), device)

        return train_network(self.network, config, batches,
                             int(np.ceil(len(train) / config.batch_size)), loss_of_batch,
                             validation_scores, data.validation.clusters, checkpoint, log)

    @torch.inference_mode()
    def _scores(self, model, inputs: Inputs, device: torch.device | None = None) -> np.ndarray:
        device = device or torch.device("cpu")
        out = []
        for lo in range(0, len(inputs), 1024):
            title = torch.from_numpy(inputs.title_vectors[lo : lo + 1024]).to(device)
            body = torch.from_numpy(inputs.body_vectors[lo : lo + 1024]).to(device)
            out.append(torch.sigmoid(model(title, body)[0]).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.labels.n_clusters), np.float32)

    def cluster_scores(self, inputs: Inputs) -> np.ndarray:
        self.network.eval()
        return self._scores(self.network, inputs)


class Hierarchical(TorchPredictor):
    """Cluster first, then the kept tags inside the likely clusters (see HierarchicalHeads)."""

    family = "hierarchical"
    predicts_tags = True

    def build(self, dim: int) -> HierarchicalHeads:
        return HierarchicalHeads(dim, self.labels.n_clusters, self.labels.tag_cluster,
                                 hidden=self.params.get("hidden", 512))

    def fit(self, data: TrainingData, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        config = TrainConfig(**self.params.get("train", {}))
        self.dim = data.train.title_vectors.shape[1]
        self.network = self.build(self.dim)
        train = data.train
        cluster_loss = make_loss("bce", train.clusters)
        tag_loss = make_loss("bce", train.tags)
        batches = minibatches([train.title_vectors, train.body_vectors, train.clusters,
                               train.tags], config.batch_size, config.seed)

        def loss_of_batch(model, batch, device):
            title, body, clusters, tags = (t.to(device) for t in batch)
            cluster_logits, tag_logits = model(title, body)
            return cluster_loss.to(device)(cluster_logits, clusters) + tag_loss.to(device)(
                tag_logits, tags)

        def validation_scores(model, device):
            return self._scores(model, data.inputs(data.validation), device)[0]

        return train_network(self.network, config, batches,
                             int(np.ceil(len(train) / config.batch_size)), loss_of_batch,
                             validation_scores, data.validation.clusters, checkpoint, log)

    @torch.inference_mode()
    def _scores(self, model, inputs: Inputs, device: torch.device | None = None):
        device = device or torch.device("cpu")
        clusters, tags = [], []
        for lo in range(0, len(inputs), 1024):
            title = torch.from_numpy(inputs.title_vectors[lo : lo + 1024]).to(device)
            body = torch.from_numpy(inputs.body_vectors[lo : lo + 1024]).to(device)
            cluster_logits, tag_logits = model(title, body)
            clusters.append(torch.sigmoid(cluster_logits).cpu().numpy())
            tags.append(model.tag_scores(cluster_logits, tag_logits).cpu().numpy())
        if not clusters:
            return (np.zeros((0, self.labels.n_clusters), np.float32),
                    np.zeros((0, self.labels.n_tags), np.float32))
        return np.concatenate(clusters), np.concatenate(tags)

    def cluster_scores(self, inputs: Inputs) -> np.ndarray:
        return self._scores(self.network.eval(), inputs)[0]

    def tag_scores(self, inputs: Inputs) -> np.ndarray:
        return self._scores(self.network.eval(), inputs)[1]
