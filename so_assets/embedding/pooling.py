"""Pool token states into one vector per text, or into a fixed number of segment vectors."""

from __future__ import annotations

import torch


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the real tokens' states: [b, t, d], [b, t] -> [b, d]."""
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def last_token_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """State of each text's last real token, for left- or right-padded batches (Qwen3 style)."""
    if bool(mask[:, -1].all()):  # left padding: the last position is real for every text
        return states[:, -1]
    last = mask.sum(1) - 1
    return states[torch.arange(states.shape[0], device=states.device), last]


def segment_mean_pool(states: torch.Tensor, mask: torch.Tensor, n_segments: int
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Split each text's real tokens into ``n_segments`` contiguous, near-equal chunks in order
    and average each chunk: [b, t, d] -> [b, n_segments, d] and a [b, n_segments] mask.

    A text with L >= n_segments tokens gives chunks of about L / n_segments tokens; a shorter
    text gives one token per segment and masked (zero) segments after them. Works for left and
    right padding, since positions are counted over real tokens only.
    """
    real = mask.to(torch.long)
    position = real.cumsum(1) - 1  # index among the text's real tokens
    length = real.sum(1, keepdim=True)
    segment = position * n_segments // length.clamp(min=n_segments)
    one_hot = torch.nn.functional.one_hot(segment.clamp(min=0), n_segments).to(states.dtype)
    one_hot = one_hot * real.unsqueeze(-1).to(states.dtype)  # [b, t, s]
    sums = torch.einsum("btd,bts->bsd", states, one_hot)
    counts = one_hot.sum(1)  # [b, s]
    pooled = sums / counts.clamp(min=1).unsqueeze(-1)
    return pooled, counts > 0


def l2_normalize(vectors: torch.Tensor) -> torch.Tensor:
    """Unit vectors along the last axis (zero vectors stay zero)."""
    return torch.nn.functional.normalize(vectors, p=2, dim=-1)
