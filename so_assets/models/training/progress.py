"""Progress lines for long fits that have no epochs of their own: items done, rate, time left,
at most one line every ``every`` seconds."""

from __future__ import annotations

import logging
import time


class Progress:
    """Call :meth:`step` after each item; it logs ``label: done/total (rate, ~left)``."""

    def __init__(self, log: logging.Logger | None, label: str, total: int, unit: str,
                 every: float = 10.0) -> None:
        self.log, self.label, self.total, self.unit, self.every = log, label, total, unit, every
        self.started = self.last = time.monotonic()
        self.done = 0

    def step(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.log is None or (now - self.last < self.every and self.done < self.total):
            return
        self.last = now
        rate = self.done / max(now - self.started, 1e-9)
        self.log.info("%s: %d/%d %s (%.1f/s, ~%.0fs left)", self.label, self.done, self.total,
                      self.unit, rate, (self.total - self.done) / max(rate, 1e-9))


def xgboost_progress(log: logging.Logger | None, label: str, rounds: int):
    """An XGBoost callback that reports boosting rounds through :class:`Progress`."""
    import xgboost as xgb

    class RoundProgress(xgb.callback.TrainingCallback):
        def __init__(self) -> None:
            super().__init__()
            self.progress = Progress(log, label, rounds, "boosting rounds")

        def after_iteration(self, model, epoch, evals_log) -> bool:
            self.progress.step()
            return False  # never stops training itself

    return RoundProgress()


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (XGBoost then trains on it too)."""
    import torch

    return torch.cuda.is_available()
