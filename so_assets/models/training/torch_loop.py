"""The torch epoch loop every torch family trains with: AdamW, OneCycleLR or
ReduceLROnPlateau, early stopping on a validation figure with patience, gradient clipping,
seeding, the best state kept and checkpointed, CUDA when present, bf16 autocast where the
hardware multiplies bf16 (validation and scoring stay float32)."""

from __future__ import annotations

import copy
import logging
import os
import random
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from so_assets.embedding.device import cpu_has_fast_bf16, pick_device
from so_assets.models.core.base import TrainResult
from so_assets.models.training.config import TrainConfig
from so_assets.storage.leftovers import writer_suffix


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels, so that two
    trainings on the same inputs give the same model (on the CPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def autocast_bf16(config: TrainConfig, device: torch.device) -> bool:
    """Whether training computes in bf16 autocast: asked for (``config.bf16``) and on CUDA
    or a CPU that multiplies bf16 in hardware."""
    return config.bf16 and (device.type == "cuda" or cpu_has_fast_bf16())


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
    min_gain: float = 0.0,
) -> TrainResult:
    """Train in place and leave the state with the best ``validate`` figure (higher is
    better) loaded in ``model``; that state is also written to ``checkpoint`` (temporary
    file, then rename) when given. The caller seeds before building ``model``.

    Training stops ``config.patience`` epochs after the last gain of at least ``min_gain``
    over the figure of the previous such gain: on a small validation split, chance moves
    smaller than that no longer keep a finished training going."""
    log = log or logging.getLogger(__name__)
    device = pick_device(config.device)
    model.to(device)
    groups = getattr(model, "parameter_groups", None)
    # fused: one kernel over every parameter instead of one op per tensor per moment; on the
    # CPU it took embedding_bag's step (8.4M embedding weights) from 105 to 42 ms
    optimizer = torch.optim.AdamW(groups(config.lr) if groups else model.parameters(),
                                  lr=config.lr, weight_decay=config.weight_decay,
                                  fused=device.type in ("cpu", "cuda"))
    steps = config.epochs * max(-(-steps_per_epoch // config.accumulate), 1)
    if config.scheduler == "onecycle":
        scheduler: Any = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=steps)
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max",
                                                               factor=0.5, patience=2)
    autocast = autocast_bf16(config, device)

    def optimizer_step() -> None:
        if config.clip_grad:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if config.scheduler == "onecycle" and scheduler.last_epoch < steps:
            scheduler.step()

    log_steps = max(steps_per_epoch // 10, 1) if steps_per_epoch >= 200 else 0
    result = TrainResult(best_score=-float("inf"))
    progress, progress_epoch = -float("inf"), 0  # the figure and epoch of the last real gain
    best_state = copy.deepcopy(model.state_dict())
    started = time.monotonic()
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        step = 0
        for step, batch in enumerate(train_batches(), start=1):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                loss = loss_of_batch(model, batch, device)
            (loss / config.accumulate).backward()
            losses.append(float(loss.detach()))
            if step % config.accumulate == 0:
                optimizer_step()
            if log_steps and step % log_steps == 0:
                _log_progress(log, epoch, config.epochs, step, steps_per_epoch,
                              time.monotonic() - started)
        if step % config.accumulate:  # the epoch's last, partial accumulation
            optimizer_step()
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
        if score > progress and score >= progress + min_gain:
            progress, progress_epoch = score, epoch
        elif epoch - progress_epoch >= config.patience:
            log.info("early stop: no gain of %.4f or more for %d epochs (best %.4f at epoch "
                     "%d)", min_gain, config.patience, result.best_score, result.best_epoch)
            break
    model.load_state_dict(best_state)
    model.to("cpu").eval()
    result.seconds = time.monotonic() - started
    return result


def _log_progress(log: logging.Logger, epoch: int, epochs: int, step: int, steps: int,
                  elapsed: float) -> None:
    """Within-epoch progress of a long epoch: batches done, rate, time left."""
    done = (epoch - 1) * steps + step
    rate = done / max(elapsed, 1e-9)
    log.info("epoch %d/%d: batch %d/%d (%.1f batches/s, ~%.0fs left at most)", epoch, epochs,
             step, steps, rate, (epochs * steps - done) / max(rate, 1e-9))


def save_state_atomic(state: dict, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{writer_suffix()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
