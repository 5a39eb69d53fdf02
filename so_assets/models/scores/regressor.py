"""Torch score regressors: the tag models' networks (MLP, dual-stream fusion) with one output,
fed the stored vectors and the posting-time features."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from so_assets.models.core.base import ScoreModel, ScoreParams, Scores, TrainResult
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.models.scores.features import tabular_features, tabular_names
from so_assets.models.training.config import TorchParams, TrainConfig
from so_assets.models.training.torch_model import TorchModel, minibatches
from so_assets.params import param

if TYPE_CHECKING:
    import torch



@dataclass(frozen=True)
class TorchRegressorParams(ScoreParams, TorchParams):
    network: Literal["mlp", "dsf_mhsa", "dsf_cross_attention"] = param(
        "mlp", "An MLP, or dual-stream fusion by self- or cross-attention over the token "
               "sequences' stream tokens.")
    streams: tuple[Literal["title", "body"], ...] = param(
        ("title", "body"), "The vectors the MLP reads (dual-stream fusion reads both).")
    loss: Literal["mse", "huber"] = param("mse", "Squared error, or Huber (the heavy tail's "
                                                 "outliers weigh linearly).")
    huber_delta: float = param(1.0, "Where Huber turns linear (standardised target).", gt=0)
    hidden: int = param(256, "Width of the hidden layers.", ge=1)
    n_tokens: int = param(4, "Learned tokens per stream (dual-stream fusion only).", ge=1)
    train: TrainConfig = param(TrainConfig(epochs=80, patience=10),
                               "The training loop's settings.")


class TorchRegressor(TorchModel, ScoreModel):
    """The target is standardised; features are scaled on train."""

    family = "torch_regressor"
    params_class = TorchRegressorParams
    params: TorchRegressorParams

    @property
    def streams(self) -> list[str]:
        if self.params.network != "mlp":
            return ["title", "body"]
        return list(self.params.streams)

    def build_network(self, dim: int) -> torch.nn.Module:
        from so_assets.models.training.networks import MLP, DualStreamFusion

        p = self.params
        n_tab = len(tabular_names(self.labels.n_clusters))
        if p.network == "mlp":
            return MLP(dim * len(self.streams) + n_tab, 1, hidden=p.hidden)
        fusion = "self" if p.network == "dsf_mhsa" else "cross"
        return DualStreamFusion(dim, 1, fusion=fusion, hidden=p.hidden, n_tokens=p.n_tokens,
                                extra_dim=n_tab)

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        data = self.scored_data(data)
        tab = tabular_features(data.train, self.labels.n_clusters)
        self.tab_mean, self.tab_std = tab.mean(0), tab.std(0) + 1e-6
        y = self.to_target(data.train.scores)
        self.y_mean, self.y_std = np.array(y.mean()), np.array(y.std() + 1e-6)
        return super().fit(data, checkpoint=checkpoint, log=log)

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        vectors = {"title": inputs.title_vectors, "body": inputs.body_vectors}
        tab = (tabular_features(inputs, self.labels.n_clusters) - self.tab_mean) / self.tab_std
        return [*(vectors[s] for s in self.streams), tab.astype(np.float32)]

    def training_batches(self, data: TrainingData, config: TrainConfig):
        import torch

        y = ((self.to_target(data.train.scores) - self.y_mean) / self.y_std).astype(np.float32)
        batches = minibatches([*self.network_inputs(data.train), y.reshape(-1, 1)],
                              config.batch_size, config.seed)
        delta = self.params.huber_delta
        loss_fn = (torch.nn.HuberLoss(delta=delta) if self.params.loss == "huber"
                   else torch.nn.MSELoss())

        def loss_of_batch(network, batch, device):
            *parts, target = (t.to(device) for t in batch)
            return loss_fn(network(*parts)[0], target)

        return batches, loss_of_batch

    def outputs(self, network, batch):
        return [network(*batch)[0].squeeze(1)]

    def to_scores(self, outputs: list[np.ndarray]) -> Scores:
        return Scores(score=self.from_target(outputs[0] * self.y_std + self.y_mean))

    def extra_state(self) -> dict[str, np.ndarray]:
        return {"tab_mean": self.tab_mean, "tab_std": self.tab_std, "y_mean": self.y_mean,
                "y_std": self.y_std}

    def restore_extra_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.tab_mean, self.tab_std = arrays["tab_mean"], arrays["tab_std"]
        self.y_mean, self.y_std = arrays["y_mean"], arrays["y_std"]
