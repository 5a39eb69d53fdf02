"""A torch training loop: AdamW, OneCycleLR or ReduceLROnPlateau, early stopping on validation
micro-F1 with patience, gradient clipping, seeding, best-checkpoint saving, CUDA when present."""

from __future__ import annotations

import copy
import logging
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from so_assets.embedding.encoder import pick_device
from so_assets.models.thresholds import best_global_threshold


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


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = -1.0
    seconds: float = 0.0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_network(
    model: torch.nn.Module,
    config: TrainConfig,
    train_batches: Callable[[], Iterable[Any]],
    steps_per_epoch: int,
    loss_of_batch: Callable[[torch.nn.Module, Any, torch.device], torch.Tensor],
    validation_scores: Callable[[torch.nn.Module, torch.device], np.ndarray],
    validation_truth: np.ndarray,
    checkpoint: Path | None = None,
    log: logging.Logger | None = None,
) -> TrainResult:
    """Train in place and leave the best validation state loaded in ``model``.

    The selection metric is validation micro-F1 at the best global threshold. The best state
    is also written to ``checkpoint`` (temporary file, then rename) when given.
    """
    log = log or logging.getLogger(__name__)
    seed_everything(config.seed)
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
    result = TrainResult()
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
            scores = validation_scores(model, device)
        _, score = best_global_threshold(validation_truth, scores)
        if config.scheduler == "plateau":
            scheduler.step(score)
        elapsed = time.monotonic() - started
        result.history.append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                               "val_micro_f1": score, "lr": optimizer.param_groups[0]["lr"],
                               "seconds": elapsed})
        log.info("epoch %d/%d: loss %.4f, validation micro-F1 %.4f (%.0fs, ~%.0fs left at most)",
                 epoch, config.epochs, np.mean(losses), score, elapsed,
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
