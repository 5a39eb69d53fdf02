"""What the torch families share: building the network after seeding, the training call,
one batched scoring loop, and saving the weights. torch loads only when a model is used."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from so_assets.models.core.base import Model, Scores, TrainResult
from so_assets.models.core.data import Inputs, SplitData, TrainingData

if TYPE_CHECKING:
    import torch
    from scipy.sparse import csr_array

    from so_assets.models.training.torch_loop import TrainConfig

LossOfBatch = Callable[["torch.nn.Module", Any, "torch.device"], "torch.Tensor"]


class TorchModel(Model):
    """A model whose state is one torch network built from the input width."""

    engine = "pytorch"
    score_batch_size = 1024

    @abstractmethod
    def build_network(self, dim: int) -> torch.nn.Module:
        """The network for inputs of width ``dim`` (called after seeding)."""

    @abstractmethod
    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        """The arrays the network reads, row-aligned with ``inputs``."""

    @abstractmethod
    def outputs(self, network: torch.nn.Module, batch: list[torch.Tensor]
                ) -> list[torch.Tensor]:
        """The network's outputs on one batch, as the scores they stand for."""

    @abstractmethod
    def to_scores(self, outputs: list[np.ndarray]) -> Scores:
        """The concatenated outputs as :class:`Scores`."""

    @abstractmethod
    def training_batches(self, data: TrainingData, config: TrainConfig
                         ) -> tuple[Callable[[], Iterator[Any]], LossOfBatch]:
        """A fresh pass over the training batches each call, and the loss of one batch."""

    def train_config(self) -> TrainConfig:
        return self.params.train

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from so_assets.embedding.device import cpu_threads
        from so_assets.models.training.torch_loop import seed_everything, train_network

        config = self.train_config()
        seed_everything(config.seed)
        self.dim = int(data.train.title_vectors.shape[1])
        self.network = self.build_network(self.dim)
        batches, loss_of_batch = self.training_batches(data, config)

        def validate(network, device) -> float:
            return self.epoch_figure(network, data.validation, device)

        name, noise = self.epoch_figure_name(data.validation)
        min_gain = noise if config.min_gain is None else config.min_gain
        with cpu_threads(config.threads):
            return train_network(self.network, config, batches,
                                 int(np.ceil(len(data.train) / config.batch_size)),
                                 loss_of_batch, validate, checkpoint, log, name, min_gain)

    def epoch_figure(self, network: torch.nn.Module, split: SplitData,
                     device: torch.device) -> float:
        """The validation figure that picks the epoch (higher is better): the task's
        :meth:`selection_value` of the model's own scores, unless a family ranks epochs by
        another."""
        return self.selection_value(split, self.to_scores(
            self.score_batches(network, split, device)))

    def epoch_figure_name(self, split: SplitData) -> tuple[str, float]:
        """What :meth:`epoch_figure` is called in the log, and its chance noise on ``split``
        (gains below it do not keep training going)."""
        return f"validation {self.selection_metric}", self.selection_noise(split)

    def predict_scores(self, inputs: Inputs) -> Scores:
        from so_assets.embedding.device import cpu_threads

        self.network.eval()
        with cpu_threads(self.train_config().threads):
            return self.to_scores(self.score_batches(self.network, inputs))

    def score_batches(self, network: torch.nn.Module, inputs: Inputs,
                      device: torch.device | None = None,
                      outputs: Callable[..., list[torch.Tensor]] | None = None
                      ) -> list[np.ndarray]:
        """The one batched scoring loop: ``outputs`` (by default :meth:`outputs`) over
        ``inputs`` in chunks, on ``device``."""
        import torch

        device = device or torch.device("cpu")
        outputs = outputs or self.outputs
        arrays = self.network_inputs(inputs)
        chunks: list[list[np.ndarray]] = []
        with torch.inference_mode():
            for lo in range(0, len(inputs), self.score_batch_size):
                batch = [torch.from_numpy(a[lo: lo + self.score_batch_size]).to(device)
                         for a in arrays]
                chunks.append([o.float().cpu().numpy() for o in outputs(network, batch)])
        if not chunks:  # no questions: run one empty batch for the output widths
            with torch.inference_mode():
                batch = [torch.from_numpy(a[:0]).to(device) for a in arrays]
                return [o.float().cpu().numpy() for o in outputs(network, batch)]
        return [np.concatenate(parts) for parts in zip(*chunks, strict=True)]

    def extra_state(self) -> dict[str, np.ndarray]:
        """Arrays besides the weights that scoring needs (e.g. feature scales)."""
        return {}

    def restore_extra_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Take back what :meth:`extra_state` gave (before the network is built)."""
        return None

    def weights_to_save(self) -> dict[str, torch.Tensor]:
        """The weights ``model.pt`` holds: all of them, unless a family rebuilds some from
        elsewhere (see :meth:`weights_rebuilt_on_load`)."""
        return self.network.state_dict()

    def weights_rebuilt_on_load(self) -> set[str]:
        """Names of weights that :meth:`build_network` restores by itself when loading."""
        return set()

    def save_state(self, directory: Path) -> None:
        import torch

        extra = {k: torch.from_numpy(np.asarray(v)) for k, v in self.extra_state().items()}
        torch.save({"dim": self.dim, "state": self.weights_to_save(), "extra": extra},
                   directory / "model.pt")

    def load_state(self, directory: Path) -> None:
        import torch

        saved = torch.load(directory / "model.pt", weights_only=True)
        self.dim = saved["dim"]
        self.restore_extra_state({k: v.numpy() for k, v in saved.get("extra", {}).items()})
        self.network = self.build_network(self.dim)
        missing, unexpected = self.network.load_state_dict(saved["state"], strict=False)
        if unexpected or set(missing) - self.weights_rebuilt_on_load():
            raise ValueError(f"{directory / 'model.pt'} does not fit {self.family}'s network: "
                             f"missing {sorted(set(missing))[:3]}, unexpected "
                             f"{sorted(unexpected)[:3]}")
        self.network.eval()


class FloatRows:
    """An indicator matrix (a bool label matrix, dense or sparse) read as dense float32 one
    batch of rows at a time, so that its float copy is never made whole."""

    def __init__(self, matrix: np.ndarray | csr_array) -> None:
        self.matrix = matrix

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        picked = self.matrix[rows]
        return (picked.toarray() if hasattr(picked, "toarray") else picked).astype(np.float32)


def minibatches(arrays: list[np.ndarray | FloatRows], batch_size: int, seed: int
                ) -> Callable[[], Iterator[list[torch.Tensor]]]:
    """A fresh shuffled pass over in-memory arrays each time it is called (seeded per epoch)."""
    import torch

    epoch = [0]

    def batches() -> Iterator[list[torch.Tensor]]:
        rng = np.random.default_rng(seed + epoch[0])
        epoch[0] += 1
        order = rng.permutation(len(arrays[0]))
        for lo in range(0, len(order), batch_size):
            pick = order[lo: lo + batch_size]
            yield [torch.from_numpy(a[pick]) for a in arrays]

    return batches


def make_loss(name: str, targets: np.ndarray | csr_array) -> torch.nn.Module:
    """``bce`` (class-weighted), ``asl`` (Asymmetric Loss) or ``focal`` (label-smoothed)."""
    import torch

    from so_assets.models.training.losses import (
        AsymmetricLoss,
        FocalLoss,
        WeightedBCE,
        positive_weights,
    )

    if name == "asl":
        return AsymmetricLoss(gamma_neg=4.0, gamma_pos=1.0)
    if name == "focal":
        return FocalLoss(gamma=2.0, smoothing=0.1)
    positives = np.asarray(targets.sum(0), dtype=np.float32)  # dense or sparse targets
    return WeightedBCE(positive_weights(torch.from_numpy(positives), targets.shape[0]))
