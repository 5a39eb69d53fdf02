"""Hostile and broken servers: the key never leaks, every request ends, paging ends, a cut
connection is retried, bad items are named. Real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import threading
import traceback
import warnings
from urllib.parse import quote, quote_plus

import pytest

from so_assets.stackexchange.client import StackExchangeClient
from so_assets.stackexchange.errors import (
    MalformedResponseError,
    PagingLimitError,
    QuotaExhaustedError,
    SourceError,
    TransportFailedError,
)
from so_assets_tests.api_server import CUT_HEADERS, DROP, Reply, Trickle
from so_assets_tests.stackexchange.test_client import DAY, DAY_EPOCH, page, question

SECRET = "Sup3rSecretKey((("
FORMS = (SECRET, quote(SECRET), quote_plus(SECRET))  # as typed, and as a URL carries it


def leaks(text: str) -> bool:
    return any(form in text for form in FORMS)


def client_for(url: str, clock, **kwargs) -> StackExchangeClient:
    kwargs.setdefault("max_retries", 1)
    kwargs.setdefault("timeout_seconds", 2)
    return StackExchangeClient(api_root=url, key=SECRET, clock=clock,
                               key_hosts=("127.0.0.1",), **kwargs)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/2.3"  # nothing listens there any more


FAILURES = {
    "refused": None,
    "reset": DROP,
    "cut_headers": CUT_HEADERS,
    "timeout": Trickle(Reply(200, page([question(1)])), interval=0.5),
    "client_error": Reply(400, {"error_id": 400, "error_name": "bad_parameter",
                                "error_message": f"key {SECRET} is not valid"}),
    "server_error": Reply(503, "<html>upstream down, url ...&key=" + SECRET + "</html>", False),
    "malformed": Reply(200, b"{not json ... key=" + SECRET.encode(), False),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_no_failure_message_log_or_warning_carries_the_key(failure, api_server, clock,
                                                            caplog):
    url = closed_port_url() if failure == "refused" else api_server.url
    if failure != "refused":
        api_server.api.add("/2.3/questions", FAILURES[failure])
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(SourceError) as raised:
        warnings.simplefilter("always")
        client_for(url, clock).fetch_window(DAY, DAY.replace(day=6))
    shown = "".join(traceback.format_exception(raised.value))
    assert "REDACTED" in shown or failure in ("client_error", "server_error", "malformed")
    assert not leaks(shown), shown
    assert not leaks(caplog.text), caplog.text
    assert not any(leaks(str(w.message)) for w in caught)
    if failure != "refused":
        assert all(r.params.get("key") == SECRET for r in api_server.api.requests)  # it was sent


def run_with_deadline(call, seconds: float = 60.0):
    """Run ``call`` in a thread; fail (rather than hang the suite) if it never ends."""
    result: dict = {}

    def target():
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the request never ended"
    return result


def test_a_trickling_server_cannot_hold_a_request_open(api_server, clock):
    api_server.api.add("/2.3/questions", Trickle(Reply(200, page([question(1)])), interval=1.0))
    outcome = run_with_deadline(lambda: client_for(api_server.url, clock, max_retries=0,
                                                   timeout_seconds=2).get("/questions", {}))
    assert isinstance(outcome["error"], TransportFailedError)
    assert "deadline" in str(outcome["error"])


def test_a_connection_cut_mid_headers_is_retried(api_server, clock):
    api_server.api.add("/2.3/questions", CUT_HEADERS, Reply(200, page([question(7)])))
    window = client_for(api_server.url, clock).fetch_window(DAY, DAY.replace(day=6))
    assert [r.question_id for r in window.records] == [7]
    assert len(api_server.api.requests) == 2 and clock.sleeps == [1.0]


def test_endless_has_more_stops_at_the_page_limit(api_server, clock):
    def endless(path, params):
        number = int(params["page"])
        return Reply(200, page([question(1000 + number)], has_more=True))

    api_server.api.handler = endless
    with pytest.raises(PagingLimitError, match=r"more than 25 pages.*without a key"):
        StackExchangeClient(api_root=api_server.url, key="", clock=clock).fetch_window(
            DAY, DAY.replace(day=6))
    assert len(api_server.api.requests) == 25
    api_server.api.requests.clear()
    with pytest.raises(PagingLimitError, match="more than 7 pages"):
        client_for(api_server.url, clock, max_pages=7).fetch_window(DAY, DAY.replace(day=6))
    assert len(api_server.api.requests) == 7


def test_a_page_of_repeats_saying_has_more_stops_paging(api_server, clock):
    api_server.api.add("/2.3/questions", Reply(200, page([question(1), question(2)], True)),
                       Reply(200, page([question(2), question(1)], True)))
    with pytest.raises(MalformedResponseError, match="page 2 repeats only items"):
        client_for(api_server.url, clock).fetch_window(DAY, DAY.replace(day=6))
    assert len(api_server.api.requests) == 2


@pytest.mark.parametrize("field, value, message", [
    ("score", "lots", "question 5: score is not an integer: 'lots'"),
    ("accepted_answer_id", "zz", "item 5: accepted_answer_id is not an integer: 'zz'"),
    ("creation_date", [1], "item 5: creation_date is not an integer"),
    ("tags", 7, "question 5: tags are a int"),
    ("title", None, "question 5 has no title"),
    ("question_id", 1.9, "question id is not an integer: 1.9"),
])
def test_a_bad_item_names_the_url_the_item_and_the_field(api_server, clock, field, value,
                                                         message):
    item = question(5, **{field: value})
    api_server.api.add("/2.3/questions", Reply(200, page([item])))
    with pytest.raises(MalformedResponseError) as raised:
        client_for(api_server.url, clock).fetch_window(DAY, DAY.replace(day=6))
    assert message in str(raised.value) and "/2.3/questions" in str(raised.value)


def test_ids_are_integers_or_an_error():
    from so_assets.stackexchange.normalize import RecordError, parse_int

    assert parse_int("12") == 12 and parse_int(" -3 ") == -3 and parse_int("40.0") == 40
    assert parse_int(7.0) == 7 and parse_int("") is None and parse_int(None) is None
    for bad in ("1.9", "2e3", 1.5, True, "0x10", "1,000"):
        with pytest.raises(RecordError, match="not an integer"):
            parse_int(bad, "question id")


def test_an_item_keyed_in_time_outside_the_window_is_not_kept(api_server, clock):
    inside, outside = question(1, offset=10), question(2, offset=-10)
    assert outside["creation_date"] == DAY_EPOCH - 10
    api_server.api.add("/2.3/questions", Reply(200, page([inside, outside])))
    window = client_for(api_server.url, clock).fetch_window(DAY, DAY.replace(day=6))
    assert [r.question_id for r in window.records] == [1]


def test_a_backoff_past_the_cap_fails_the_day_instead_of_sleeping(api_server, clock):
    api_server.api.add("/2.3/questions", Reply(200, {"items": [], "has_more": False,
                                                     "backoff": 86400}))
    client = client_for(api_server.url, clock)
    with pytest.raises(QuotaExhaustedError, match=r"asked to back off 86400s, past the cap of "
                                                  r"300s \(max_backoff_seconds\)"):
        client.fetch_window(DAY, DAY.replace(day=DAY.day + 1))
    assert clock.sleeps == []


def test_an_answer_that_inflates_past_the_cap_is_refused_unread(api_server, clock,
                                                                 monkeypatch):
    """A small gzip that inflates to far more than any page: refused, not retried."""
    from so_assets.stackexchange import transport

    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 2**20)
    api_server.api.add("/2.3/questions", Reply(200, b"[" + b" " * (8 * 2**20) + b"]"))
    client = client_for(api_server.url, clock, transport=transport.HttpTransport())
    with pytest.raises(MalformedResponseError, match=r"larger than 1 MB once decompressed"):
        client.fetch_window(DAY, DAY.replace(day=DAY.day + 1))
    assert len(api_server.api.requests) == 1
