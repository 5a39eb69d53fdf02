"""The sequence-aware dual-stream model over the stored token sequences."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from so_assets.embedding.question_vectors import TOKENS
from so_assets.models.base import Inputs, TrainingData
from so_assets.models.data import SequenceStream, load_dense
from so_assets.models.dense import TorchPredictor, make_loss
from so_assets.models.networks import SequenceDSF
from so_assets.models.trainer import TrainConfig, TrainResult, train_network

TOKEN_FIELDS = ("title", "title_mask", "body", "body_mask")


class SequenceModel(TorchPredictor):
    """Training streams [4 + 32, d] sequences from HDF5 (a shuffle buffer at a time)."""

    family = "sequence_dsf"
    needs_tokens = True

    def build(self, dim: int) -> SequenceDSF:
        return SequenceDSF(dim, self.labels.n_clusters, hidden=self.params.get("hidden", 256))

    def fit(self, data: TrainingData, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        config = TrainConfig(**self.params.get("train", {}))
        self.dim = data.train.title_vectors.shape[1]
        self.network = self.build(self.dim)
        loss_fn = make_loss(self.params.get("loss", "focal"), data.train.clusters)
        stream = SequenceStream(data.vectors, TOKENS, data.train.question_ids,
                                data.train.clusters, batch_size=config.batch_size,
                                seed=config.seed)
        validation = data.inputs(data.validation, load_tokens(data, data.validation))

        def loss_of_batch(model, batch, device):
            title, title_mask, body, body_mask, y, _ = (t.to(device) for t in batch)
            return loss_fn.to(device)(model(title, title_mask, body, body_mask), y)

        def validation_scores(model, device):
            return self._scores(model, validation, device)

        return train_network(self.network, config, lambda: iter(stream),
                             int(np.ceil(len(data.train) / config.batch_size)), loss_of_batch,
                             validation_scores, data.validation.clusters, checkpoint, log)

    @torch.inference_mode()
    def _scores(self, model, inputs: Inputs, device: torch.device | None = None) -> np.ndarray:
        device = device or torch.device("cpu")
        tokens = inputs.tokens
        out = []
        for lo in range(0, len(inputs), 256):
            parts = [torch.from_numpy(tokens[f][lo : lo + 256]).to(device) for f in TOKEN_FIELDS]
            out.append(torch.sigmoid(model(*parts)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.labels.n_clusters), np.float32)

    def cluster_scores(self, inputs: Inputs) -> np.ndarray:
        if inputs.tokens is None:
            raise ValueError("sequence_dsf needs token sequences (question_token_embeddings)")
        return self._scores(self.network.eval(), inputs)


def load_tokens(data: TrainingData, split) -> dict[str, np.ndarray]:
    """A split's token sequences (validation and test splits are small enough to hold)."""
    return load_dense(data.vectors, TOKENS, split.question_ids, TOKEN_FIELDS)
