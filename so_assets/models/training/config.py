"""The torch training loop's parameters (light: no torch import), shared by every torch
family as its ``train`` parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from so_assets.params import Params, param


@dataclass(frozen=True)
class TrainConfig(Params):
    """How a torch network is trained (see :func:`~.torch_loop.train_network`)."""

    epochs: int = param(40, "Passes over the training split at most.", ge=1)
    batch_size: int = param(128, "Questions per minibatch.", ge=1)
    lr: float = param(1e-3, "AdamW's learning rate (OneCycleLR's peak).", gt=0)
    weight_decay: float = param(1e-2, "AdamW's decoupled weight decay.", ge=0)
    scheduler: Literal["onecycle", "plateau"] = param(
        "plateau", "OneCycleLR over every step, or halve the rate when validation stalls.")
    patience: int = param(6, "Epochs without a better validation figure before stopping.",
                          ge=1)
    min_gain: float | None = param(
        None, "A validation gain below this does not reset patience (unset: the validation "
              "figure's own noise on a split that size, e.g. 0.024 micro-F1 on 420 cluster "
              "labels; 0 for score models).", ge=0)
    clip_grad: float = param(1.0, "Gradient norm clip (0: none).", ge=0)
    mixup_alpha: float = param(0.0, "Manifold mixup's Beta(alpha, alpha) (0: none).", ge=0)
    seed: int = param(0, "Seed of the weights, dropout, mixup and batch order.", ge=0)
    device: Literal["auto", "cpu", "cuda"] = param("auto", "Where to train: CUDA when "
                                                           "present unless set.")
    accumulate: int = param(1, "Minibatches whose gradients are summed before one step.", ge=1)
    bf16: bool = param(True, "Autocast the training steps to bfloat16 on CUDA and on a CPU "
                             "with bf16 matrix units (AMX, AVX-512 BF16); float32 elsewhere.")
    threads: int = param(0, "CPU compute threads while training and scoring (0: every core; "
                            "1 where a second core does not shorten a step).", ge=0)


@dataclass(frozen=True)
class TorchParams(Params):
    """What every torch family takes: how its network is trained."""

    train: TrainConfig = param(TrainConfig(), "The training loop's settings.")


@dataclass(frozen=True)
class SequenceTorchParams(TorchParams):
    """What the torch families that train on the stored token sequences take besides."""

    stream_memory_mb: int = param(1024, "Training sequences kept in memory after the first "
                                        "epoch up to this size (MB; over it, or 0, every "
                                        "epoch reads them from HDF5 again).", ge=0)


Loss = Literal["bce", "asl", "focal"]
"""Class-weighted BCE, Asymmetric Loss (gamma 4 / 1) or label-smoothed focal loss."""
