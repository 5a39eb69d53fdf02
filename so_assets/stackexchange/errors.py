"""Errors of the Stack Exchange sources; every message says what failed and where."""

from __future__ import annotations


class SourceError(RuntimeError):
    """A source could not deliver its questions; nothing was written."""


class ApiError(SourceError):
    """The API answered with an error object (``error_id``, ``error_name``, ``error_message``)."""

    def __init__(self, url: str, status: int, error_id: int | None, name: str, message: str):
        super().__init__(f"{url}: HTTP {status} {name} (error_id {error_id}): {message}")
        self.url = url
        self.status = status
        self.error_id = error_id
        self.error_name = name


class QuotaExhaustedError(SourceError):
    """The daily request quota is used up; the API resets it at midnight UTC."""


class MalformedResponseError(SourceError):
    """A page was not the JSON the API documents."""


class PagingLimitError(SourceError):
    """A window needs more pages than the API serves (or than configured)."""


class TransportFailedError(SourceError):
    """Network failures or throttling outlasted the retries."""


class DumpFormatError(SourceError):
    """A data-dump or CSV file is not in the expected format."""
