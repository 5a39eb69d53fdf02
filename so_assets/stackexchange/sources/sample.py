"""The bundled sample, served through the API client as if it were the live API."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from so_assets.stackexchange.client import PAGES_WITH_KEY, StackExchangeClient
from so_assets.stackexchange.files import FileHead
from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR, SampleTransport
from so_assets.stackexchange.sources.api import client_day_batches
from so_assets.stackexchange.sources.base import (
    DatasetSummary,
    DayBatch,
    Source,
    summarize_records,
)


@dataclass(frozen=True, kw_only=True)
class SampleSource(Source):
    kind = "sample"
    description = "the bundled sample (data/sample/) or a generated one, served like the API"
    writes_day_by_day = True

    path: str | None = None
    """A sample folder (default: the bundled data/sample/)."""

    @classmethod
    def sniff(cls, head: FileHead) -> bool:
        return head.is_dir and (head.path / "questions").is_dir()

    @property
    def folder(self) -> Path:
        return Path(self.path) if self.path else DEFAULT_SAMPLE_DIR

    def location(self) -> str:
        return str(self.folder)

    def days(self) -> list[date]:
        """The days the sample covers."""
        return SampleTransport(self.folder).days()

    def client(self, log: logging.Logger | None = None) -> StackExchangeClient:
        # Local files have no key-less page limit: a generated 100,000-question sample holds
        # about 48 pages a day, where the live API stops at 25 without a key.
        return StackExchangeClient(SampleTransport(self.folder), site=self.site,
                                   api_root=f"sample://{self.folder}", source_name=self.kind,
                                   log=log, max_pages=PAGES_WITH_KEY)

    def day_batches(self, days: Sequence[date], log: logging.Logger) -> Iterator[DayBatch]:
        return client_day_batches(self.client(log), days, log)

    def summarize(self) -> DatasetSummary:
        log = logging.getLogger(__name__)
        records = (r for b in self.day_batches(self.days(), log) for r in b.records)
        return summarize_records(records, self.location(), self.has_scores)
