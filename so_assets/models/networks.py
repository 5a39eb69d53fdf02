"""Torch networks over title and body embeddings.

The seed's dual-stream fusion attended over one title vector and one body vector: a softmax
over a single key is 1, so its cross-attention only returned the projected body. Here each
stream is first projected into ``n_tokens`` learned sub-vectors (``StreamTokens``), so
attention has several keys to weigh; the sequence model uses the stored token sequences
(4 title and 32 body segments) instead.
"""

from __future__ import annotations

import torch
from torch import nn


def mixup(hidden: torch.Tensor, targets: torch.Tensor, alpha: float
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Manifold mixup: blend hidden states and targets of shuffled pairs (lambda ~ Beta)."""
    if alpha <= 0:
        return hidden, targets
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    lam = max(lam, 1 - lam)
    order = torch.randperm(hidden.shape[0], device=hidden.device)
    return lam * hidden + (1 - lam) * hidden[order], lam * targets + (1 - lam) * targets[order]


def projection(d_in: int, d_out: int, dropout: float) -> nn.Sequential:
    """LayerNorm -> Linear -> GELU -> Dropout."""
    return nn.Sequential(nn.LayerNorm(d_in), nn.Linear(d_in, d_out), nn.GELU(),
                         nn.Dropout(dropout))


class StreamTokens(nn.Module):
    """One vector -> ``n_tokens`` learned sub-vectors of width ``hidden``."""

    def __init__(self, d_in: int, hidden: int, n_tokens: int, dropout: float) -> None:
        super().__init__()
        self.n_tokens, self.hidden = n_tokens, hidden
        self.proj = projection(d_in, hidden * n_tokens, dropout)
        self.position = nn.Parameter(torch.zeros(n_tokens, hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).view(-1, self.n_tokens, self.hidden) + self.position


class MLP(nn.Module):
    """Its inputs side by side ([title, body], or one stream and tabular features) -> hidden
    -> outputs (one per label, or one score). ``d_in`` is their total width."""

    def __init__(self, d_in: int, n_out: int, hidden: int = 512, dropout: float = 0.3
                 ) -> None:
        super().__init__()
        self.trunk = nn.Sequential(projection(d_in, hidden, dropout),
                                   projection(hidden, hidden, dropout))
        self.head = nn.Linear(hidden, n_out)

    def forward(self, *inputs, targets=None, mixup_alpha: float = 0.0):
        hidden = self.trunk(torch.cat(inputs, dim=1))
        if targets is not None:
            hidden, targets = mixup(hidden, targets, mixup_alpha)
        return self.head(hidden), targets


class AttentionBlock(nn.Module):
    """Multi-head attention with residual, LayerNorm and a GELU feed-forward."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(hidden)
        self.ff = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Dropout(dropout),
                                nn.Linear(2 * hidden, hidden))
        self.norm2 = nn.LayerNorm(hidden)

    def forward(self, query, key, key_padding_mask=None):
        attended, _ = self.attention(query, key, key, key_padding_mask=key_padding_mask)
        x = self.norm1(query + attended)
        return self.norm2(x + self.ff(x))


class DualStreamFusion(nn.Module):
    """Title and body streams of learned tokens, fused by attention.

    ``fusion="self"``: multi-head self-attention over the concatenated tokens (DSF-MHSA).
    ``fusion="cross"``: title tokens query the body tokens (DSF cross-attention).
    """


    def __init__(self, d_in: int, n_labels: int, fusion: str = "cross", hidden: int = 256,
                 n_tokens: int = 4, heads: int = 4, dropout: float = 0.2, extra_dim: int = 0
                 ) -> None:
        super().__init__()
        self.fusion = fusion
        self.title = StreamTokens(d_in, hidden, n_tokens, dropout)
        self.body = StreamTokens(d_in, hidden, n_tokens, dropout)
        self.stream_type = nn.Parameter(torch.zeros(2, hidden))
        self.block = AttentionBlock(hidden, heads, dropout)
        self.head = nn.Sequential(projection(3 * hidden + extra_dim, hidden, dropout),
                                  nn.Linear(hidden, n_labels))

    def forward(self, title, body, *extra, targets=None, mixup_alpha: float = 0.0):
        """``extra``: tabular features joined to the fused streams before the head."""
        t = self.title(title) + self.stream_type[0]
        b = self.body(body) + self.stream_type[1]
        if self.fusion == "self":
            tokens = torch.cat([t, b], dim=1)
            fused = self.block(tokens, tokens).mean(1)
        else:
            fused = self.block(t, b).mean(1)
        hidden = torch.cat([fused, t.mean(1), b.mean(1), *extra], dim=1)
        if targets is not None:
            hidden, targets = mixup(hidden, targets, mixup_alpha)
        return self.head(hidden), targets


class SequenceDSF(nn.Module):
    """Over the stored token sequences: Conv1d projection of the body segments, self-attention
    over them, then title segments attending to the body."""


    def __init__(self, d_in: int, n_labels: int, hidden: int = 256, heads: int = 4,
                 dropout: float = 0.3) -> None:
        super().__init__()
        self.title = projection(d_in, hidden, dropout)
        self.body = nn.Sequential(nn.Conv1d(d_in, hidden, kernel_size=3, padding=1), nn.GELU())
        self.body_self = AttentionBlock(hidden, heads, dropout)
        self.cross = AttentionBlock(hidden, heads, dropout)
        self.head = nn.Sequential(projection(2 * hidden, hidden, dropout),
                                  nn.Linear(hidden, n_labels))

    def forward(self, title, title_mask, body, body_mask):
        body_pad = ~body_mask
        body_pad[:, 0] = False  # keep one key so attention is defined for empty texts
        b = self.body(body.transpose(1, 2)).transpose(1, 2)
        b = self.body_self(b, b, key_padding_mask=body_pad)
        t = self.title(title)
        fused = self.cross(t, b, key_padding_mask=body_pad)
        t_weights = title_mask.unsqueeze(-1).float()
        b_weights = (~body_pad).unsqueeze(-1).float()
        pooled_t = (fused * t_weights).sum(1) / t_weights.sum(1).clamp(min=1)
        pooled_b = (b * b_weights).sum(1) / b_weights.sum(1).clamp(min=1)
        return self.head(torch.cat([pooled_t, pooled_b], dim=1))


class HierarchicalHeads(nn.Module):
    """Cluster first, then tags: one trunk, a cluster head and a tag head; a tag's score is
    p(its cluster) x p(tag), so tags outside the likely clusters are suppressed."""


    def __init__(self, d_in: int, n_clusters: int, tag_cluster: list[int], hidden: int = 512,
                 dropout: float = 0.3) -> None:
        super().__init__()
        self.trunk = nn.Sequential(projection(2 * d_in, hidden, dropout),
                                   projection(hidden, hidden, dropout))
        self.cluster_head = nn.Linear(hidden, n_clusters)
        self.tag_head = nn.Linear(hidden, len(tag_cluster))
        self.register_buffer("tag_cluster", torch.tensor(tag_cluster, dtype=torch.long))

    def forward(self, title, body):
        hidden = self.trunk(torch.cat([title, body], dim=1))
        return self.cluster_head(hidden), self.tag_head(hidden)

    def tag_scores(self, cluster_logits, tag_logits) -> torch.Tensor:
        return torch.sigmoid(cluster_logits)[:, self.tag_cluster] * torch.sigmoid(tag_logits)
