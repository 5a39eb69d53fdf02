"""Stack Exchange API v2.3 client: paging, backoff, quota, retries, accepted answers.

Plain Python; the transport is pluggable so the same code path serves the live API and the
bundled sample. The API key is read from ``STACKEXCHANGE_KEY`` and is removed from every URL
and message this module produces.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlparse

from so_assets.stackexchange.errors import (
    ApiError,
    MalformedResponseError,
    PagingLimitError,
    QuotaExhaustedError,
    TransportFailedError,
)
from so_assets.stackexchange.normalize import (
    RecordError,
    answer_from_api,
    parse_int,
    record_from_api,
)
from so_assets.stackexchange.records import AcceptedAnswer, QuestionRecord
from so_assets.stackexchange.transport import (
    Clock,
    HttpTransport,
    OversizedResponseError,
    SystemClock,
    Transport,
    TransportError,
    redact,
)

API_ROOT = "https://api.stackexchange.com/2.3"
API_HOST = "api.stackexchange.com"
KEY_ENV_VAR = "STACKEXCHANGE_KEY"
MAX_IDS_PER_CALL = 100
MAX_BACKOFF_SECONDS = 300.0
"""The longest ``backoff`` the client waits for; the API's are seconds to a few minutes, and a
longer one (a hostile or broken server's 86,400) fails the day clearly instead of sleeping."""
PAGES_WITHOUT_KEY = 25  # the API serves at most 25 pages of a query without a key
PAGES_WITH_KEY = 1000  # a day of StackOverflow is a few thousand questions: 100,000 is ample
_THROTTLE_WAIT_RE = re.compile(r"available in (\d+) seconds")
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class WindowResult:
    """The questions of one creation-time window and how many the source reported."""

    records: list[QuestionRecord]
    reported_count: int
    quota_remaining: int | None


class StackExchangeClient:
    """Reads questions and accepted answers of one site.

    Honours ``backoff`` per method, stops when ``quota_remaining`` reaches 0, retries throttling,
    5xx answers and network failures with capped exponential backoff.
    """

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        site: str = "stackoverflow",
        api_root: str = API_ROOT,
        key: str | None = None,
        question_filter: str = "withbody",
        answer_filter: str = "withbody",
        page_size: int = 100,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        initial_retry_seconds: float = 1.0,
        max_retry_seconds: float = 60.0,
        clock: Clock | None = None,
        source_name: str = "api",
        log: logging.Logger | None = None,
        max_pages: int | None = None,
        key_hosts: Sequence[str] = (API_HOST,),
        max_backoff_seconds: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError(f"page_size must be 1..100, got {page_size}")
        self.transport = transport or HttpTransport()
        self.site = site
        self.api_root = api_root.rstrip("/")
        self.log = log or logging.getLogger(__name__)
        self._key = key if key is not None else os.environ.get(KEY_ENV_VAR) or None
        self._send_key = bool(self._key) and self._key_may_go_to(key_hosts)
        self.question_filter = question_filter
        self.answer_filter = answer_filter
        self.page_size = page_size
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.initial_retry_seconds = initial_retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.clock = clock or SystemClock()
        self.source_name = source_name
        self.max_backoff_seconds = max_backoff_seconds
        self.max_pages = max_pages or (PAGES_WITH_KEY if self._send_key else PAGES_WITHOUT_KEY)
        self.quota_remaining: int | None = None
        self.calls = 0
        self._not_before: dict[str, float] = {}

    def _key_may_go_to(self, key_hosts: Sequence[str]) -> bool:
        """Whether the key is sent to ``api_root``'s host: only to the Stack Exchange API,
        unless ``key_hosts`` names another host explicitly (a test server, a mirror)."""
        host = (urlparse(self.api_root).hostname or "").lower()
        allowed = {h.lower() for h in key_hosts}
        if host not in allowed:
            self.log.warning("%s is set but %s is not among the hosts the key may go to (%s): "
                             "the key is not sent", KEY_ENV_VAR, host or self.api_root,
                             ", ".join(sorted(allowed)))
            return False
        if host != API_HOST:
            self.log.warning("sending %s to %s: allowed by the key_hosts option", KEY_ENV_VAR,
                             host)
        return True

    # ----------------------------------------------------------------- public reads
    def fetch_window(self, start: datetime, end: datetime) -> WindowResult:
        """All questions created in ``[start, end)`` (UTC) with their accepted answers."""
        items, reported = self.question_items(start, end)
        where = self._method_url("/questions")
        accepted = {}
        for item in items:
            try:
                accepted[id(item)] = parse_int(item.get("accepted_answer_id"),
                                               "accepted_answer_id")
            except RecordError as exc:
                raise MalformedResponseError(
                    f"{where}: item {item.get('question_id')!r}: {exc}") from None
        answers = self.accepted_answers(a for a in accepted.values() if a is not None)
        records = []
        for item in items:
            answer = answers.get(accepted[id(item)]) if accepted[id(item)] else None
            try:
                records.append(record_from_api(item, self.site, self.source_name, answer))
            except RecordError as exc:
                raise MalformedResponseError(
                    f"{where}: item {item.get('question_id')!r}: {exc}") from None
        return WindowResult(records, reported, self.quota_remaining)

    def question_items(self, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], int]:
        """Raw ``/questions`` items created in ``[start, end)`` and the count the API reported.

        The count is the filter's ``total`` when it has one, else the number of items served.
        """
        params = {
            "fromdate": str(_epoch(start)),
            "todate": str(_epoch(end) - 1),  # the API's todate is inclusive
            "sort": "creation",
            "order": "asc",
            "filter": self.question_filter,
        }
        items: list[dict[str, Any]] = []
        total: int | None = None
        for page in self.pages("/questions", params):
            if total is None and isinstance(page.get("total"), int):
                total = page["total"]
            items.extend(page["items"])
        lo, hi = _epoch(start), _epoch(end)
        inside = []
        for item in items:
            try:
                created = parse_int(item.get("creation_date"), "creation_date")
            except RecordError as exc:
                raise MalformedResponseError(f"{self._method_url('/questions')}: item "
                                             f"{item.get('question_id')!r}: {exc}") from None
            if created is None or lo <= created < hi:
                inside.append(item)
        return inside, total if total is not None else len(inside)

    def accepted_answers(self, answer_ids: Iterable[int]) -> dict[int, AcceptedAnswer]:
        """Accepted answers by id, fetched in batches of at most 100 ids."""
        ids = sorted(set(answer_ids))
        found: dict[int, AcceptedAnswer] = {}
        for lo in range(0, len(ids), MAX_IDS_PER_CALL):
            batch = ";".join(str(i) for i in ids[lo : lo + MAX_IDS_PER_CALL])
            for page in self.pages(f"/answers/{batch}", {"filter": self.answer_filter}):
                for item in page["items"]:
                    try:
                        answer = answer_from_api(item)
                    except RecordError as exc:
                        raise MalformedResponseError(
                            f"{self._method_url('/answers')}: answer item "
                            f"{item.get('answer_id')!r}: {exc}") from None
                    found[answer.answer_id] = answer
        if missing := len(ids) - len(found):
            self.log.warning("%d of %d accepted answers were not returned (deleted?)",
                             missing, len(ids))
        return found

    def pages(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every page of a method, following ``has_more`` (items as served, repeats included).

        Paging stops with an error at ``max_pages`` (the API's own limit without a key) and on
        a page that brings no item not served before: a server that answers ``has_more``
        forever cannot keep the client busy or grow its memory.
        """
        page_number = 1
        seen: set[str] = set()
        while True:
            page = self.get(path, {**params, "page": str(page_number),
                                   "pagesize": str(self.page_size)})
            keys = {_item_key(item) for item in page["items"]}
            if page_number > 1 and keys and keys <= seen:
                raise MalformedResponseError(
                    f"{self._method_url(path)}: page {page_number} repeats only items already "
                    "served, yet says has_more: stopping rather than paging forever")
            seen |= keys
            yield page
            if not page.get("has_more"):
                return
            if page_number >= self.max_pages:
                raise PagingLimitError(
                    f"{self._method_url(path)}: more than {self.max_pages} pages for one "
                    "window (the API serves at most "
                    f"{PAGES_WITHOUT_KEY if not self._send_key else self.max_pages} without "
                    f"{'a key: set ' + KEY_ENV_VAR if not self._send_key else 'a higher max_pages'}"
                    "); nothing of this window was written")
            if page.get("quota_remaining") == 0:
                raise QuotaExhaustedError(
                    f"{self._method_url(path)}: quota_remaining is 0 after page {page_number} "
                    f"and more pages remain; the quota resets at midnight UTC"
                )
            page_number += 1

    # ----------------------------------------------------------------- one call
    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """One API call with backoff, quota and retry handling; returns the decoded wrapper."""
        method = _method_name(path)
        query = {**params, "site": self.site}
        if self._send_key:
            query["key"] = self._key
        url = self.api_root + path
        shown = self.redact(f"{url}?{urlencode(query)}")
        if self.quota_remaining == 0:
            raise QuotaExhaustedError(f"{shown}: not sent, quota_remaining is 0")
        attempt = 0
        while True:
            self._wait_for_backoff(method)
            self.calls += 1
            try:
                response = self.transport.get(url, query, self.timeout_seconds)
            except OversizedResponseError as exc:
                raise MalformedResponseError(f"{shown}: {self.redact(str(exc))}") from None
            except TransportError as exc:
                reason = self.redact(str(exc))
                attempt = self._retry_or_raise(attempt, shown, f"no answer ({reason})")
                continue
            if not response.body.strip():  # the connection closed before a body arrived
                attempt = self._retry_or_raise(
                    attempt, shown, f"HTTP {response.status} with an empty body (connection "
                                    "closed early)")
                continue
            retryable = response.status in _RETRYABLE_STATUS
            try:
                body = self._decode(response.body, shown, response.status)
            except MalformedResponseError as exc:
                if not retryable:
                    raise
                attempt = self._retry_or_raise(attempt, shown, str(exc))
                continue
            try:
                backoff = parse_int(body.get("backoff"), "backoff")
                quota = parse_int(body.get("quota_remaining"), "quota_remaining")
            except RecordError as exc:
                raise MalformedResponseError(f"{shown}: {exc}") from None
            if backoff is not None and backoff > self.max_backoff_seconds:
                raise QuotaExhaustedError(
                    f"{shown}: the API asked to back off {backoff}s, past the cap of "
                    f"{self.max_backoff_seconds:g}s (max_backoff_seconds): not waited for; "
                    "load the day again later")
            if backoff is not None:
                self._not_before[method] = self.clock.monotonic() + backoff
                self.log.info("API asked for backoff of %ss on %s", backoff, method)
            if quota is not None:
                self.quota_remaining = quota
            if response.status == 200 and "error_id" not in body:
                _check_wrapper(body, shown)
                return body
            error = ApiError(
                shown, response.status, body.get("error_id"),
                self.redact(str(body.get("error_name", "unknown"))),
                self.redact(str(body.get("error_message", ""))),
            )
            if error.error_name == "throttle_violation" or retryable:
                wait = _throttle_wait(str(body.get("error_message", "")))
                if wait is not None and wait > self.max_retry_seconds:
                    raise QuotaExhaustedError(
                        f"{shown}: throttled for {wait}s, longer than the retry cap "
                        f"({self.max_retry_seconds}s): {error}"
                    ) from error
                attempt = self._retry_or_raise(attempt, shown, str(error), at_least=wait or 0)
                continue
            raise error

    def redact(self, text: str) -> str:
        """``text`` with the API key and access tokens replaced by REDACTED."""
        text = redact(text)
        if self._key:
            text = text.replace(self._key, "REDACTED")
        return text

    # ----------------------------------------------------------------- helpers
    def _wait_for_backoff(self, method: str) -> None:
        not_before = self._not_before.get(method)
        if not_before is not None:
            delay = not_before - self.clock.monotonic()
            if delay > 0:
                self.clock.sleep(delay)

    def _retry_or_raise(self, attempt: int, url: str, reason: str, at_least: float = 0) -> int:
        if attempt >= self.max_retries:
            # from None: the underlying exception may quote the URL with its key
            raise TransportFailedError(
                f"{url}: gave up after {attempt + 1} attempts; last failure: {reason}"
            ) from None
        delay = max(at_least, min(self.max_retry_seconds, self.initial_retry_seconds * 2**attempt))
        self.log.warning("%s failed (%s); retry %d/%d in %.1fs",
                         url, reason, attempt + 1, self.max_retries, delay)
        self.clock.sleep(delay)
        return attempt + 1

    def _decode(self, raw: bytes, url: str, status: int) -> dict[str, Any]:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            preview = self.redact(raw[:80].decode("utf-8", "replace"))
            raise MalformedResponseError(
                f"{url}: HTTP {status} body is not JSON ({exc}); starts with {preview!r}"
            ) from None
        if not isinstance(body, dict):
            raise MalformedResponseError(
                f"{url}: HTTP {status} body is a JSON {type(body).__name__}, not an object"
            )
        return body

    def _method_url(self, path: str) -> str:
        return self.api_root + path


def _check_wrapper(body: dict[str, Any], url: str) -> None:
    items = body.get("items")
    if not isinstance(items, list):
        raise MalformedResponseError(f"{url}: 'items' is missing or not a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MalformedResponseError(f"{url}: items[{index}] is not an object")
    if "has_more" in body and not isinstance(body["has_more"], bool):
        raise MalformedResponseError(f"{url}: 'has_more' is {body['has_more']!r}, not a boolean")


def _item_key(item: dict[str, Any]) -> str:
    """What identifies an item across pages: its id, else its whole content."""
    for name in ("question_id", "answer_id", "comment_id"):
        if name in item:
            return f"{name}={item[name]}"
    return json.dumps(item, sort_keys=True)


def _method_name(path: str) -> str:
    """Backoff is per method: ``/answers/1;2;3`` and ``/answers/4`` are one method."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join("{ids}" if re.fullmatch(r"[\d;]+", p) else p for p in parts)


def _throttle_wait(message: str) -> float | None:
    match = _THROTTLE_WAIT_RE.search(message)
    return float(match.group(1)) if match else None


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
