"""A transformer text encoder: one unit vector per text and fixed-length segment sequences.

Texts are sorted by length and cut into batches by a token budget, so padding stays minimal;
the model runs once per batch and both the pooled vector and the segment sequence come from the
same token states. CUDA is used when present, CPU otherwise; bf16 where the hardware multiplies
it fast.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from so_assets.embedding.config import EncoderConfig
from so_assets.embedding.device import cpu_has_fast_bf16, pick_device
from so_assets.embedding.pooling import (
    l2_normalize,
    last_token_pool,
    mean_pool,
    segment_mean_pool,
)


def pick_dtype(requested: str, device: torch.device) -> torch.dtype:
    """By default bf16 on CUDA (production encoders are large) and on a CPU with bf16 matrix
    units (see :func:`cpu_has_fast_bf16`), float32 on any other CPU."""
    if requested == "auto":
        fast = device.type == "cuda" or cpu_has_fast_bf16()
        return torch.bfloat16 if fast else torch.float32
    return getattr(torch, requested)


@dataclass
class EncodedTexts:
    """Unit float32 vectors [n, d]; with segments, also [n, s, d] vectors and an [n, s] mask."""

    vectors: np.ndarray
    segments: np.ndarray | None = None
    segment_mask: np.ndarray | None = None
    tokens: int = 0


class TextEncoder:
    """Loads a model once; encodes lists of texts in length-sorted, token-budgeted batches."""

    @contextlib.contextmanager
    def logging_to(self, log: logging.Logger) -> Iterator[TextEncoder]:
        """Progress lines to ``log`` inside the block (a step's logger), the module's logger
        again after it: the loaded encoder is shared, its callers' loggers are not."""
        before, self.log = self.log, log
        try:
            yield self
        finally:
            self.log = before

    def __init__(self, config: EncoderConfig | None = None,
                 log: logging.Logger | None = None) -> None:
        self.config = config or EncoderConfig()
        self.log = log or logging.getLogger(__name__)
        self.device = pick_device(self.config.device)
        self.dtype = pick_dtype(self.config.dtype, self.device)
        path = self.config.resolved_model()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        if self.config.padding_side != "auto":
            self.tokenizer.padding_side = self.config.padding_side
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModel.from_pretrained(path, dtype=self.dtype).to(self.device).eval()
        self.dimension = int(self.model.config.hidden_size)
        self.slug = self.config.slug()

    def encode(self, texts: Sequence[str], *, is_query: bool = False, segments: int = 0,
               max_length: int | None = None, label: str = "texts") -> EncodedTexts:
        """Encode ``texts``; ``segments`` > 0 also returns that many chunk-mean vectors."""
        n = len(texts)
        max_length = max_length or self.config.max_length
        prefix = self.config.query_instruction if is_query else ""
        vectors = np.zeros((n, self.dimension), dtype=np.float32)
        seg = np.zeros((n, segments, self.dimension), dtype=np.float32) if segments else None
        seg_mask = np.zeros((n, segments), dtype=bool) if segments else None
        if n == 0:
            return EncodedTexts(vectors, seg, seg_mask)
        encoded = self.tokenizer([prefix + (t or " ") for t in texts], truncation=True,
                                 max_length=max_length, add_special_tokens=True)
        ids: list[list[int]] = encoded["input_ids"]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=n)
        order = np.argsort(-lengths, kind="stable")
        started = time.monotonic()
        done = total_tokens = 0
        last_log = started
        for batch in self._batches(order, lengths):
            states, mask = self._forward([ids[i] for i in batch])
            pooled = (last_token_pool if self.config.pooling == "last_token" else mean_pool)(
                states, mask)
            vectors[batch] = l2_normalize(pooled.float()).cpu().numpy()
            if segments:
                pooled_seg, present = segment_mean_pool(states.float(), mask, segments)
                seg[batch] = l2_normalize(pooled_seg).cpu().numpy()
                seg_mask[batch] = present.cpu().numpy()
            done += len(batch)
            total_tokens += int(lengths[batch].sum())
            now = time.monotonic()
            if now - last_log > 10 or done == n:
                rate = done / max(now - started, 1e-9)
                self.log.info("encoded %d/%d %s (%.0f texts/s, %.0f tokens/s, ~%.0fs left)",
                              done, n, label, rate, total_tokens / max(now - started, 1e-9),
                              (n - done) / max(rate, 1e-9))
                last_log = now
        return EncodedTexts(vectors, seg, seg_mask, total_tokens)

    def _batches(self, order: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        # Longest first: each batch is padded to its first text's length.
        batches, start = [], 0
        while start < len(order):
            width = int(lengths[order[start]])
            size = max(1, self.config.batch_tokens // max(width, 1))
            batches.append(order[start : start + size])
            start += size
        return batches

    @torch.inference_mode()
    def _forward(self, ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        padded = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt")
        input_ids = padded["input_ids"].to(self.device)
        mask = padded["attention_mask"].to(self.device)
        out = self.model(input_ids=input_ids, attention_mask=mask)
        return out.last_hidden_state, mask.bool()


@functools.cache
def load_encoder(config: EncoderConfig) -> TextEncoder:
    """The encoder of ``config``, loaded once per process."""
    return TextEncoder(config)
