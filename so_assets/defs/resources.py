"""Configurable resources: where data lives and where questions come from."""


import os
from pathlib import Path

import dagster as dg

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


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment: ``SO_ASSETS_DATA_DIR``, ``SO_ASSETS_SOURCE``,
    ``SO_ASSETS_SOURCE_PATH`` and ``SO_ASSETS_SITE`` (defaults: data/, the bundled sample)."""
    return {
        "storage": StorageResource(data_dir=os.environ.get("SO_ASSETS_DATA_DIR", "data")),
        "source": QuestionSourceResource(
            kind=os.environ.get("SO_ASSETS_SOURCE", "sample"),  # type: ignore[arg-type]
            path=os.environ.get("SO_ASSETS_SOURCE_PATH") or None,
            site=os.environ.get("SO_ASSETS_SITE", "stackoverflow"),
        ),
    }
