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

from so_assets.models.training.frozen_layers import frozen_output, top_output, transformer_layers
from so_assets.models.training.recurrent_states import final_states


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


class LabelHeads(nn.Module):
    """Cluster logits and kept-tag logits from one hidden vector."""

    def __init__(self, hidden: int, n_clusters: int, n_tags: int) -> None:
        super().__init__()
        self.clusters = nn.Linear(hidden, n_clusters)
        self.tags = nn.Linear(hidden, n_tags)

    def forward(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.clusters(hidden), self.tags(hidden)


class NgramBag(nn.Module):
    """``nn.EmbeddingBag`` (mean) over hashed word and bigram ids (0 pads), then the heads."""

    def __init__(self, buckets: int, dim: int, n_clusters: int, n_tags: int,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(buckets, dim, mode="mean", padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.heads = LabelHeads(dim, n_clusters, n_tags)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heads(self.dropout(self.bag(ids)))


class TitleBodyRecurrent(nn.Module):
    """The Keras reference's design: an LSTM over the title words and a GRU over the body words
    on one trainable word embedding; main heads on both final states, auxiliary heads on the
    title branch alone (trained with a smaller weight)."""

    def __init__(self, vocabulary: int, n_clusters: int, n_tags: int, embed: int = 128,
                 hidden: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, embed, padding_idx=0)
        self.title = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.body = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.main = nn.Sequential(projection(4 * hidden, 2 * hidden, dropout))
        self.main_heads = LabelHeads(2 * hidden, n_clusters, n_tags)
        self.aux_heads = LabelHeads(2 * hidden, n_clusters, n_tags)

    @staticmethod
    def _encode(rnn: nn.RNNBase, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Both directions' final states over each question's words (ids 0 are padding)."""
        return final_states(rnn, x, (ids != 0).sum(1))

    def forward(self, title_ids: torch.Tensor, body_ids: torch.Tensor):
        title = self._encode(self.title, self.dropout(self.embed(title_ids)), title_ids)
        body = self._encode(self.body, self.dropout(self.embed(body_ids)), body_ids)
        main = self.main_heads(self.main(torch.cat([title, body], dim=1)))
        return (*main, *self.aux_heads(self.dropout(title)))


class EncoderClassifier(nn.Module):
    """A transformer encoder, pooled (mean or last token), then the label heads. Columns that
    are padding for the whole batch (either side) are cut before the encoder runs.

    With its lower layers frozen (:meth:`train_top_layers`), it also reads what they output
    (:meth:`frozen_states`) in place of the token ids, so that training, which never changes
    them, need not run them again each epoch."""

    def __init__(self, encoder: nn.Module, n_clusters: int, n_tags: int, pooling: str = "mean",
                 head_lr_scale: float = 20.0, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder, self.pooling, self.head_lr_scale = encoder, pooling, head_lr_scale
        self.dropout = nn.Dropout(dropout)
        self.heads = LabelHeads(encoder.config.hidden_size, n_clusters, n_tags)
        self.first_trainable: int | None = None

    def forward(self, tokens_or_states: torch.Tensor, attention_mask: torch.Tensor):
        """Label logits from token ids [n, length], or from :meth:`frozen_states`' float
        output [n, length, hidden] for the same question."""
        from so_assets.embedding.pooling import last_token_pool, mean_pool

        keep = attention_mask.bool().any(0)
        keep[0] = True
        inputs, mask = tokens_or_states[:, keep], attention_mask[:, keep]
        if inputs.is_floating_point():
            if self.first_trainable is None:
                raise ValueError("hidden states given to an encoder whose every layer trains")
            states = top_output(self.encoder, self.first_trainable,
                                inputs.to(self.heads.tags.weight.dtype), mask)
        else:
            states = self.encoder(input_ids=inputs, attention_mask=mask).last_hidden_state
        pool = last_token_pool if self.pooling == "last_token" else mean_pool
        return self.heads(self.dropout(pool(states, mask.bool()).float()))

    def frozen_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                      ) -> torch.Tensor:
        """What the frozen lower layers output for these tokens [n, length, hidden] (zeros in
        columns that are padding for every row), in eval mode (no dropout), for
        :meth:`forward` to read instead of the ids."""
        if self.first_trainable is None:
            raise ValueError("every layer of this encoder trains: no frozen output to store")
        keep = attention_mask.bool().any(0)
        keep[0] = True
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            with torch.inference_mode():
                kept = frozen_output(self.encoder, self.first_trainable, input_ids[:, keep],
                                     attention_mask[:, keep])
                states = kept.new_zeros((*input_ids.shape, kept.shape[-1]))
                states[:, keep] = kept
                return states
        finally:
            self.encoder.train(was_training)

    def train_top_layers(self, count: int | None) -> None:
        """Freeze the embeddings and every transformer layer but the top ``count`` (None:
        train them all). Frozen lower layers build no autograd graph, so an epoch costs
        their forward pass only, or nothing once :meth:`frozen_states` is stored."""
        if count is None:
            self.first_trainable = None
            return
        layers = transformer_layers(self.encoder)
        self.first_trainable = max(len(layers) - count, 0)
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(False)
        for layer in layers[self.first_trainable:]:
            for parameter in layer.parameters():
                parameter.requires_grad_(True)

    def parameter_groups(self, lr: float) -> list[dict]:
        """The trainable pretrained layers at ``lr``, the new heads ``head_lr_scale`` times
        faster."""
        return [{"params": [p for p in self.encoder.parameters() if p.requires_grad],
                 "lr": lr},
                {"params": self.heads.parameters(), "lr": lr * self.head_lr_scale}]


class SegmentSeq2Seq(nn.Module):
    """A T5 whose encoder reads the stored segment vectors (4 title + 32 body, projected to its
    width) instead of token embeddings; ``forward`` gives the loss of target sequences."""

    def __init__(self, d_in: int, config) -> None:
        from transformers import T5ForConditionalGeneration

        super().__init__()
        self.project = nn.Linear(d_in, config.d_model)
        self.t5 = T5ForConditionalGeneration(config)

    def _encoder_inputs(self, title, title_mask, body, body_mask):
        mask = torch.cat([title_mask, body_mask], dim=1).clone()
        mask[:, 0] = True  # one position to attend to, even for an empty text
        return self.project(torch.cat([title, body], dim=1)), mask.long()

    def forward(self, title, title_mask, body, body_mask, labels):
        embeds, mask = self._encoder_inputs(title, title_mask, body, body_mask)
        return self.t5(inputs_embeds=embeds, attention_mask=mask, labels=labels).loss

    def generate(self, title, title_mask, body, body_mask, **kwargs):
        embeds, mask = self._encoder_inputs(title, title_mask, body, body_mask)
        return self.t5.generate(inputs_embeds=embeds, attention_mask=mask, **kwargs)


class TextSeq2Seq(nn.Module):
    """A pretrained encoder-decoder over the question's own tokens."""

    def __init__(self, t5: nn.Module) -> None:
        super().__init__()
        self.t5 = t5

    def forward(self, input_ids, attention_mask, labels):
        return self.t5(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss

    def generate(self, input_ids, attention_mask, **kwargs):
        return self.t5.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
