"""Multi-label losses: weighted BCE, Asymmetric Loss, focal loss with label smoothing."""

from __future__ import annotations

import torch
from torch import nn


class WeightedBCE(nn.Module):
    """BCE with logits, positives weighted per label (e.g. negatives / positives, capped)."""

    def __init__(self, pos_weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(
            logits, targets, pos_weight=self.pos_weight)


class AsymmetricLoss(nn.Module):
    """Asymmetric Loss (Ridnik et al., 2021): focusing gamma_neg on negatives, gamma_pos on
    positives, and negatives with probability below ``clip`` shifted to zero loss."""

    def __init__(self, gamma_neg: float = 4.0, gamma_pos: float = 1.0, clip: float = 0.05,
                 eps: float = 1e-8) -> None:
        super().__init__()
        self.gamma_neg, self.gamma_pos, self.clip, self.eps = gamma_neg, gamma_pos, clip, eps

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(logits)
        p_neg = (p - self.clip).clamp(min=0) if self.clip > 0 else p
        loss_pos = targets * (1 - p).pow(self.gamma_pos) * torch.log(p.clamp(min=self.eps))
        loss_neg = (1 - targets) * p_neg.pow(self.gamma_neg) * torch.log(
            (1 - p_neg).clamp(min=self.eps))
        return -(loss_pos + loss_neg).sum(dim=1).mean()


class FocalLoss(nn.Module):
    """Binary focal loss on label-smoothed targets (y -> y (1 - s) + s / 2)."""

    def __init__(self, gamma: float = 2.0, smoothing: float = 0.1) -> None:
        super().__init__()
        self.gamma, self.smoothing = gamma, smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        smooth = targets * (1 - self.smoothing) + self.smoothing / 2
        bce = nn.functional.binary_cross_entropy_with_logits(logits, smooth, reduction="none")
        p = torch.sigmoid(logits)
        p_t = p * targets + (1 - p) * (1 - targets)
        return ((1 - p_t).pow(self.gamma) * bce).sum(dim=1).mean()


def positive_weights(positives: torch.Tensor, n: int, cap: float = 50.0) -> torch.Tensor:
    """negatives / positives per label (``positives`` of ``n`` rows), capped; labels never
    positive get the cap."""
    ratio = ((n - positives) / positives.clamp(min=1)).clamp(max=cap)
    return torch.where(positives > 0, ratio, torch.full_like(ratio, cap))
