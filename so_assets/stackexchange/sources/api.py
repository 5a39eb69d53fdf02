"""The live Stack Exchange API, one creation day per window."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from so_assets.stackexchange.client import (
    API_HOST,
    API_ROOT,
    MAX_BACKOFF_SECONDS,
    StackExchangeClient,
)
from so_assets.stackexchange.sources.base import DatasetSummary, DayBatch, Source


@dataclass(frozen=True, kw_only=True)
class ApiSource(Source):
    kind = "api"
    description = "the live Stack Exchange API v2.3 (key from STACKEXCHANGE_KEY)"
    writes_day_by_day = True

    api_root: str = API_ROOT
    max_retries: int = 5
    initial_retry_seconds: float = 1.0
    timeout_seconds: float = 30.0
    """Each request's whole deadline: connecting, headers and body."""
    max_pages: int | None = None
    """Pages per day at most (default: 25 without a key, the API's limit; 1000 with one)."""
    max_backoff_seconds: float = MAX_BACKOFF_SECONDS
    """The longest ``backoff`` waited for; past it the day fails (and is left as it was)."""
    key_hosts: tuple[str, ...] = (API_HOST,)
    """Hosts ``STACKEXCHANGE_KEY`` may be sent to: the API's own unless a mirror or test server
    is named here (and every run that sends it elsewhere logs so)."""

    def client(self, log: logging.Logger) -> StackExchangeClient:
        return StackExchangeClient(site=self.site, api_root=self.api_root, source_name=self.kind,
                                   log=log, max_retries=self.max_retries,
                                   initial_retry_seconds=self.initial_retry_seconds,
                                   timeout_seconds=self.timeout_seconds,
                                   max_pages=self.max_pages, key_hosts=tuple(self.key_hosts),
                                   max_backoff_seconds=self.max_backoff_seconds)

    def location(self) -> str:
        return f"{self.api_root} ({self.site})"

    def day_batches(self, days: Sequence[date], log: logging.Logger) -> Iterator[DayBatch]:
        return client_day_batches(self.client(log), days, log)

    def summarize(self) -> DatasetSummary:
        raise ValueError("the live API has no fixed extent to summarize: name a file")


def client_day_batches(client: StackExchangeClient, days: Sequence[date], log: logging.Logger
                       ) -> Iterator[DayBatch]:
    """Fetch each day's window through ``client``, logging progress and the quota."""
    days = sorted(days)
    started = time.monotonic()
    for done, day in enumerate(days, start=1):
        start = datetime(day.year, day.month, day.day)
        window = client.fetch_window(start, start + timedelta(days=1))
        elapsed = time.monotonic() - started
        log.info("%s: %d questions (%d reported) | %d/%d days, %.1f days/min, ~%.0fs left, "
                 "quota_remaining=%s", day, len(window.records), window.reported_count, done,
                 len(days), 60 * done / max(elapsed, 1e-9),
                 elapsed / done * (len(days) - done), window.quota_remaining)
        yield DayBatch(day, window.records, window.reported_count, window.quota_remaining)
