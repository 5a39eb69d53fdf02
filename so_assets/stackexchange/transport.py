"""How the client reaches the API: over HTTP, or from the bundled sample's files.

Over HTTP every request has an overall deadline (a server trickling a byte at a time cannot
hold it open), and no message this module produces or lets urllib3 log carries the API key:
secrets in query strings are replaced by REDACTED and exceptions are not chained.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import requests

SECRET_PARAM_RE = re.compile(r"((?:key|access_token)=)[^&\s'\"]+")


def redact(text: str) -> str:
    """``text`` with the values of ``key=`` and ``access_token=`` replaced by REDACTED."""
    return SECRET_PARAM_RE.sub(r"\1REDACTED", text)


class RedactingFilter(logging.Filter):
    """Rewrites log records so that query-string secrets never reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


for _name in ("urllib3", "urllib3.connectionpool", "requests"):
    logging.getLogger(_name).addFilter(RedactingFilter())


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


MAX_RESPONSE_BYTES = 32 * 2**20
"""The largest body read, after gzip: a 100-question page with bodies is about a megabyte, so
anything near this is not a page (a 300 KB gzip can inflate to hundreds of MB)."""


class OversizedResponseError(Exception):
    """A body past :data:`MAX_RESPONSE_BYTES`: not retried, the day left as it was."""


class TransportError(OSError):
    """The request did not get an answer (connection refused or dropped, timeout)."""


class Transport(Protocol):
    def get(self, url: str, params: dict[str, str], timeout: float) -> Response:
        """GET ``url`` with query ``params``; raise :class:`TransportError` without an answer."""
        ...


class HttpTransport:
    """A keep-alive HTTP session; gzip (which the API always uses) is decoded by requests.

    ``timeout`` is the whole request's deadline: connecting, the headers and the body.
    """

    def __init__(self, user_agent: str = "so_assets/0.1 (+stackexchange client)") -> None:
        self.user_agent = user_agent
        self._session = self._new_session()

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update({"User-Agent": self.user_agent, "Accept-Encoding": "gzip"})
        return session

    def get(self, url: str, params: dict[str, str], timeout: float) -> Response:
        outcome: dict[str, Response | BaseException] = {}

        def fetch() -> None:
            try:
                outcome["response"] = _fetch(self._session, url, params, timeout)
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        # A daemon thread per request: past the deadline it is abandoned with its session
        # (its socket reads time out on their own) and never holds the process open.
        worker = threading.Thread(target=fetch, name="so-assets-http", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            self._session = self._new_session()
            raise TransportError(f"no complete answer within the {timeout:g}s deadline from "
                                 f"{redact(url)}")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def close(self) -> None:
        self._session.close()


def _fetch(session: requests.Session, url: str, params: dict[str, str], timeout: float
           ) -> Response:
    started = time.monotonic()
    try:
        # Each read waits a little longer than the deadline allows (up to 11 s): the deadline
        # decides; the read timeout only lets an abandoned thread end.
        reply = session.get(url, params=params, timeout=min(timeout, 10.0) + 1.0, stream=True)
        chunks = []
        size = 0
        for chunk in reply.iter_content(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                reply.close()
                raise OversizedResponseError(
                    f"the answer is larger than {MAX_RESPONSE_BYTES // 2**20} MB once "
                    "decompressed: no page of the API is; not read further")
            if time.monotonic() - started > timeout:
                raise TransportError(f"the answer took longer than {timeout:g}s")
        return Response(status=reply.status_code, body=b"".join(chunks))
    except requests.RequestException as exc:
        # requests quotes the full URL (with its key) in many messages: redact, do not chain
        raise TransportError(redact(f"{type(exc).__name__}: {exc}")) from None
    except OSError as exc:
        if isinstance(exc, TransportError):
            raise
        raise TransportError(redact(f"{type(exc).__name__}: {exc}")) from None


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
