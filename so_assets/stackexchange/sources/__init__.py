"""The source registry: one :class:`Source` class per kind. A new kind is one module and one
line in ``SOURCES``; the resource, the CLI and ``evaluate``'s sniffing all read this."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from so_assets.stackexchange.files import read_head
from so_assets.stackexchange.sources.api import ApiSource
from so_assets.stackexchange.sources.base import DatasetSummary, DayBatch, FileSource, Source
from so_assets.stackexchange.sources.bigquery_csv import BigQueryCsvSource
from so_assets.stackexchange.sources.dump import DumpSource
from so_assets.stackexchange.sources.plain_csv import PlainCsvSource
from so_assets.stackexchange.sources.sample import SampleSource
from so_assets.stackexchange.sources.sede_csv import SedeCsvSource
from so_assets.stackexchange.sources.stacksample_csv import StackSampleCsvSource

SOURCES: dict[str, type[Source]] = {cls.kind: cls for cls in (
    SampleSource, ApiSource, DumpSource, BigQueryCsvSource, StackSampleCsvSource,
    PlainCsvSource, SedeCsvSource)}

__all__ = ["SOURCES", "DatasetSummary", "DayBatch", "FileSource", "Source", "make_source",
           "option_names", "sniff_source"]


def option_names(kind: str) -> list[str]:
    """The options a kind takes besides ``site``."""
    return [f.name for f in dataclasses.fields(_kind(kind)) if f.name != "site"]


def default_site(kind: str, options: Mapping[str, Any]) -> str:
    """The site a source is of when none is named: a file's name (``robotics.csv.zip`` ->
    ``robotics``), StackOverflow for the API and the sample."""
    path = options.get("path")
    if issubclass(_kind(kind), FileSource) and path:
        return Path(str(path)).name.split(".")[0].lower() or "stackoverflow"
    return "stackoverflow"


def make_source(kind: str, site: str = "",
                options: Mapping[str, Any] | None = None) -> Source:
    """The source of ``kind`` with its options (``site`` empty: :func:`default_site`); a clear
    error names what is wrong."""
    cls = _kind(kind)
    options = {k: v for k, v in (options or {}).items() if v is not None}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if unknown := sorted(set(options) - set(fields)):
        raise ValueError(f"source {kind!r} has no option(s) {unknown}; it takes "
                         f"{option_names(kind)}")
    required = [name for name, f in fields.items() if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    if missing := [name for name in required if name not in options]:
        raise ValueError(f"source {kind!r} needs option(s) {missing} ({cls.description})")
    return cls(site=site or default_site(kind, options), **options)


def sniff_source(path: Path) -> type[Source]:
    """The kind whose format ``path`` is in, from its header (or a sample folder)."""
    head = read_head(path)
    found = [cls for cls in SOURCES.values() if cls.sniff(head)]
    if len(found) != 1:
        if "\x00" in head.text or head.text.count("\ufffd") > len(head.text) // 20:
            raise ValueError(f"{path} is a binary file, not a CSV or XML export (nor a "
                             "sample folder)")
        shown = sorted(head.columns)[:10] or head.text[:80]
        raise ValueError(f"{path}: cannot tell its format from its start {shown!r}; name it "
                         f"(one of {[k for k in SOURCES if k != 'api']})"
                         + (f" (it looks like each of {[c.kind for c in found]})" if found else ""))
    return found[0]


def _kind(kind: str) -> type[Source]:
    try:
        return SOURCES[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r}; choose one of {list(SOURCES)}"
                         ) from None
