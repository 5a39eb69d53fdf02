"""The torch epoch loop every torch family trains with: AdamW, OneCycleLR or
ReduceLROnPlateau, early stopping on a validation figure with patience, gradient clipping,
seeding, the best state kept and checkpointed, CUDA when present."""

from __future__ import annotations

import copy
import logging
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from so_assets.embedding.device import pick_device
from so_assets.models.base import TrainResult


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-2
    scheduler: Literal["onecycle", "plateau"] = "plateau"
    patience: int = 6
    clip_grad: float = 1.0
    mixup_alpha: float = 0.0
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels, so that two
    trainings on the same inputs give the same model (on the CPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def train_network(
    model: torch.nn.Module,
    config: TrainConfig,
    train_batches: Callable[[], Iterable[Any]],
    steps_per_epoch: int,
    loss_of_batch: Callable[[torch.nn.Module, Any, torch.device], torch.Tensor],
    validate: Callable[[torch.nn.Module, torch.device], float],
    checkpoint: Path | None = None,
    log: logging.Logger | None = None,
    metric_name: str = "validation score",
) -> TrainResult:
    """Train in place and leave the state with the best ``validate`` figure (higher is
    better) loaded in ``model``; that state is also written to ``checkpoint`` (temporary
    file, then rename) when given. The caller seeds before building ``model``."""
    log = log or logging.getLogger(__name__)
    device = pick_device(config.device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    if config.scheduler == "onecycle":
        scheduler: Any = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.epochs * max(steps_per_epoch, 1))
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max",
                                                               factor=0.5, patience=2)
    result = TrainResult(best_score=-float("inf"))
    best_state = copy.deepcopy(model.state_dict())
    started = time.monotonic()
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        for batch in train_batches():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_of_batch(model, batch, device)
            loss.backward()
            if config.clip_grad:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
            optimizer.step()
            if config.scheduler == "onecycle":
                scheduler.step()
            losses.append(float(loss.detach()))
        model.eval()
        with torch.inference_mode():
            score = float(validate(model, device))
        if config.scheduler == "plateau":
            scheduler.step(score)
        elapsed = time.monotonic() - started
        result.history.append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                               "validation": score, "lr": optimizer.param_groups[0]["lr"],
                               "seconds": elapsed})
        log.info("epoch %d/%d: loss %.4f, %s %.4f (%.0fs, ~%.0fs left at most)", epoch,
                 config.epochs, np.mean(losses), metric_name, score, elapsed,
                 elapsed / epoch * (config.epochs - epoch))
        if score > result.best_score:
            result.best_score, result.best_epoch = score, epoch
            best_state = copy.deepcopy(model.state_dict())
            if checkpoint is not None:
                save_state_atomic(best_state, checkpoint)
        elif epoch - result.best_epoch >= config.patience:
            log.info("early stop: no gain for %d epochs (best %.4f at epoch %d)",
                     config.patience, result.best_score, result.best_epoch)
            break
    model.load_state_dict(best_state)
    model.to("cpu").eval()
    result.seconds = time.monotonic() - started
    return result


def save_state_atomic(state: dict, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
