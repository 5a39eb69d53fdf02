"""How the client reaches the API: over HTTP, or from the bundled sample's files."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import requests


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


class TransportError(OSError):
    """The request did not get an answer (connection refused or dropped, timeout)."""


class Transport(Protocol):
    def get(self, url: str, params: dict[str, str], timeout: float) -> Response:
        """GET ``url`` with query ``params``; raise :class:`TransportError` without an answer."""
        ...


class HttpTransport:
    """A keep-alive HTTP session; gzip (which the API always uses) is decoded by requests."""

    def __init__(self, user_agent: str = "so_assets/0.1 (+stackexchange client)") -> None:
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": user_agent, "Accept-Encoding": "gzip"})

    def get(self, url: str, params: dict[str, str], timeout: float) -> Response:
        try:
            reply = self._session.get(url, params=params, timeout=timeout)
            return Response(status=reply.status_code, body=reply.content)
        except requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._session.close()


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall time; tests inject a clock that only records the sleeps."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
