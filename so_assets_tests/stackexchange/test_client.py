"""The API client over real HTTP against a scripted server on 127.0.0.1."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from so_assets.stackexchange.client import StackExchangeClient
from so_assets.stackexchange.errors import (
    ApiError,
    MalformedResponseError,
    QuotaExhaustedError,
    TransportFailedError,
)
from so_assets_tests.api_server import DROP, Reply
from so_assets_tests.conftest import recorded_body

DAY = datetime(2024, 3, 5)
DAY_EPOCH = 1709596800  # 2024-03-05T00:00:00Z


def question(qid: int, offset: int = 60, **extra) -> dict:
    item = {"question_id": qid, "creation_date": DAY_EPOCH + offset, "title": f"Question {qid}",
            "tags": ["python", "pandas"], "score": 3, "body": "<p>Hi <code>x</code></p>",
            "is_answered": False, "view_count": 10, "answer_count": 0,
            "last_activity_date": DAY_EPOCH + offset}
    item.update(extra)
    return item


def page(items: list, has_more: bool = False, quota: int = 9000, **extra) -> dict:
    return {"items": items, "has_more": has_more, "quota_max": 10000,
            "quota_remaining": quota, **extra}


def make_client(server, clock, **kwargs) -> StackExchangeClient:
    kwargs.setdefault("max_retries", 3)
    kwargs.setdefault("key_hosts", ("127.0.0.1",))  # the test server may receive a key
    return StackExchangeClient(api_root=server.url, clock=clock, key=kwargs.pop("key", None),
                               timeout_seconds=kwargs.pop("timeout_seconds", 5), **kwargs)


@pytest.mark.parametrize("name", ["questions.json", "questions_by_ids.json",
                                  "related_questions.json", "unanswered_questions.json"])
def test_recorded_question_responses_parse_without_body(api_server, clock, name):
    body = recorded_body(name)
    items = body["items"]
    lo = min(i["creation_date"] for i in items)
    hi = max(i["creation_date"] for i in items) + 1
    api_server.api.add("/2.3/questions", Reply(200, {**body, "has_more": False}))
    # The accepted answers were deleted since: the API returns none of them.
    api_server.api.add("/2.3/answers/", Reply(200, page([], quota=body["quota_remaining"] - 1)))
    client = make_client(api_server, clock)
    window = client.fetch_window(datetime.utcfromtimestamp(lo), datetime.utcfromtimestamp(hi))
    assert len(window.records) == len(items) > 0
    assert window.reported_count == len(items)
    assert window.quota_remaining == body["quota_remaining"] - (
        1 if any("accepted_answer_id" in i for i in items) else 0)
    by_id = {r.question_id: r for r in window.records}
    for item in items:
        record = by_id[item["question_id"]]
        assert record.question_text is None  # recorded with the default filter: no body
        assert list(record.tags) == item["tags"]
        assert record.question_score == item["score"]
        assert "&quot;" not in record.title and "&#39;" not in record.title
        assert record.accepted_answer_id == item.get("accepted_answer_id")
        assert record.accepted_answer_score is None


def test_recorded_titles_are_unescaped(api_server, clock):
    body = recorded_body("unanswered_questions.json")
    api_server.api.add("/2.3/questions", Reply(200, {**body, "has_more": False}))
    item = body["items"][0]
    client = make_client(api_server, clock)
    created = datetime.utcfromtimestamp(item["creation_date"])
    record = client.fetch_window(created, created.replace(year=created.year + 1)).records[0]
    assert record.title == 'Proper way to create a "show" page that allows me to update an object'


def test_pages_until_has_more_is_false(api_server, clock):
    items = [question(78_000_000 + i, offset=i) for i in range(250)]
    api_server.api.add("/2.3/questions",
                       Reply(200, page(items[:100], True)), Reply(200, page(items[100:200], True)),
                       Reply(200, page(items[200:], False)))
    window = make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))
    assert [r.question_id for r in window.records] == [i["question_id"] for i in items]
    sent = [r.params for r in api_server.api.requests]
    assert [p["page"] for p in sent] == ["1", "2", "3"]
    assert {p["pagesize"] for p in sent} == {"100"}
    assert sent[0]["filter"] == "withbody" and sent[0]["sort"] == "creation"
    assert sent[0]["fromdate"] == str(DAY_EPOCH) and sent[0]["todate"] == str(DAY_EPOCH + 86399)


def test_backoff_is_honoured_per_method(api_server, clock):
    comments = recorded_body("comments.json")  # a real response carrying backoff: 10
    assert comments["backoff"] == 10
    api_server.api.add("/2.3/comments", Reply(200, comments),
                       Reply(200, {k: v for k, v in comments.items() if k != "backoff"}))
    api_server.api.add("/2.3/questions", Reply(200, page([question(1)])))
    client = make_client(api_server, clock)
    first = client.get("/comments", {})
    assert first["backoff"] == 10 and clock.sleeps == []
    client.get("/questions", {})  # another method: no wait
    assert clock.sleeps == []
    client.get("/comments", {})  # same method: waits out the 10 seconds first
    assert clock.sleeps == [10.0]
    assert len(api_server.api.requests) == 3


def test_backoff_already_elapsed_needs_no_sleep(api_server, clock):
    api_server.api.add("/2.3/questions", Reply(200, page([question(1)], backoff=5)))
    client = make_client(api_server, clock)
    client.get("/questions", {})
    clock.now += 6
    client.get("/questions", {})
    assert clock.sleeps == []


def test_throttle_502_then_success(api_server, clock):
    throttle = {"error_id": 502, "error_name": "throttle_violation",
                "error_message": "too many requests from this IP, more requests available in "
                                 "3 seconds"}
    api_server.api.add("/2.3/questions", Reply(502, throttle), Reply(200, page([question(7)])))
    window = make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))
    assert [r.question_id for r in window.records] == [7]
    assert clock.sleeps == [3.0]  # the wait the API named, above the 1 s first retry
    assert len(api_server.api.requests) == 2


def test_5xx_retries_back_off_exponentially_with_a_cap(api_server, clock):
    api_server.api.add("/2.3/questions", *[Reply(503, b"upstream down", gzip=False)] * 4,
                       Reply(200, page([question(8)])))
    client = make_client(api_server, clock, max_retries=5, initial_retry_seconds=1.0,
                         max_retry_seconds=5.0)
    assert [r.question_id for r in client.fetch_window(DAY, DAY.replace(day=6)).records] == [8]
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0]


def test_long_throttle_stops_with_a_clear_error(api_server, clock):
    throttle = {"error_id": 502, "error_name": "throttle_violation",
                "error_message": "too many requests from this IP, more requests available in "
                                 "80000 seconds"}
    api_server.api.add("/2.3/questions", Reply(502, throttle))
    with pytest.raises(QuotaExhaustedError, match="80000"):
        make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))
    assert clock.sleeps == []


def test_quota_exhausted_mid_paging(api_server, clock):
    api_server.api.add("/2.3/questions", Reply(200, page([question(1)], True, quota=0)))
    client = make_client(api_server, clock)
    with pytest.raises(QuotaExhaustedError, match="quota_remaining is 0 after page 1"):
        client.fetch_window(DAY, DAY.replace(day=6))
    with pytest.raises(QuotaExhaustedError, match="not sent"):
        client.get("/questions", {})
    assert len(api_server.api.requests) == 1


def test_malformed_json_names_the_url_without_the_key(api_server, clock, monkeypatch):
    monkeypatch.setenv("STACKEXCHANGE_KEY", "s3cr3t-key")
    api_server.api.add("/2.3/questions", Reply(200, b"<html>Service Unavailable</html>"))
    client = StackExchangeClient(api_root=api_server.url, clock=clock,
                                 key_hosts=("127.0.0.1",))
    with pytest.raises(MalformedResponseError) as info:
        client.fetch_window(DAY, DAY.replace(day=6))
    message = str(info.value)
    assert "/2.3/questions?" in message and "not JSON" in message and "<html>" in message
    assert "s3cr3t-key" not in message and "key=REDACTED" in message
    assert api_server.api.requests[0].params["key"] == "s3cr3t-key"  # sent, never shown


def test_the_key_goes_only_to_the_stack_exchange_api_unless_a_host_is_allowed(
        api_server, clock, monkeypatch, caplog):
    """An ``api_root`` on another host (run config can set it) never receives the key; a host
    named in ``key_hosts`` does, and the run says so."""
    monkeypatch.setenv("STACKEXCHANGE_KEY", "s3cr3t-key")
    api_server.api.add("/2.3/questions", Reply(200, {"items": [], "has_more": False}))
    with caplog.at_level(logging.WARNING):
        StackExchangeClient(api_root=api_server.url, clock=clock).get("/questions", {})
    assert "key" not in api_server.api.requests[-1].params
    assert "STACKEXCHANGE_KEY is set but 127.0.0.1 is not among the hosts the key may go to " \
           "(api.stackexchange.com): the key is not sent" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        StackExchangeClient(api_root=api_server.url, clock=clock,
                            key_hosts=("127.0.0.1",)).get("/questions", {})
    assert api_server.api.requests[-1].params["key"] == "s3cr3t-key"
    assert "sending STACKEXCHANGE_KEY to 127.0.0.1: allowed by the key_hosts option" \
           in caplog.text


@pytest.mark.parametrize("body, what", [
    ({"has_more": False}, "'items' is missing"),
    ({"items": {"a": 1}, "has_more": False}, "'items' is missing or not a list"),
    ({"items": [1, 2], "has_more": False}, "items[0] is not an object"),
    ({"items": [], "has_more": "yes"}, "'has_more' is 'yes'"),
    ([1, 2, 3], "JSON list, not an object"),
])
def test_malformed_pages_say_what_is_wrong(api_server, clock, body, what):
    api_server.api.add("/2.3/questions", Reply(200, body))
    with pytest.raises(MalformedResponseError, match=__import__("re").escape(what)):
        make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))


def test_item_without_creation_date_is_malformed(api_server, clock):
    bad = question(5)
    del bad["creation_date"]
    api_server.api.add("/2.3/questions", Reply(200, page([bad])))
    with pytest.raises(MalformedResponseError, match="question 5 has no creation date"):
        make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))


def test_recorded_api_error_is_raised_without_retry(api_server, clock):
    error = recorded_body("error.json")
    api_server.api.add("/2.3/questions", Reply(400, error))
    with pytest.raises(ApiError, match="no_method") as info:
        make_client(api_server, clock).get("/questions", {})
    assert info.value.error_id == 404 and info.value.status == 400
    assert len(api_server.api.requests) == 1 and clock.sleeps == []


def test_dropped_connections_are_retried_then_reported(api_server, clock, monkeypatch):
    monkeypatch.setenv("STACKEXCHANGE_KEY", "s3cr3t-key")
    api_server.api.add("/2.3/questions", DROP)
    client = StackExchangeClient(api_root=api_server.url, clock=clock, max_retries=2)
    with pytest.raises(TransportFailedError, match="gave up after 3 attempts") as info:
        client.fetch_window(DAY, DAY.replace(day=6))
    assert "s3cr3t-key" not in str(info.value)
    assert clock.sleeps == [1.0, 2.0]


def test_dropped_connection_then_success(api_server, clock):
    api_server.api.add("/2.3/questions", DROP, Reply(200, page([question(9)])))
    window = make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))
    assert [r.question_id for r in window.records] == [9]


def test_timeout_is_a_transport_failure(api_server, clock):
    import time

    def slow(path, params):
        time.sleep(0.5)
        return Reply(200, page([]))

    api_server.api.handler = slow
    client = make_client(api_server, clock, timeout_seconds=0.1, max_retries=0)
    with pytest.raises(TransportFailedError, match=r"within the 0\.1s deadline"):
        client.get("/questions", {})


def test_accepted_answers_fetched_in_batches_of_100(api_server, clock):
    items = [question(10_000 + i, offset=i, accepted_answer_id=50_000 + i) for i in range(230)]
    items.append(question(20_000, offset=300))  # no accepted answer
    api_server.api.add("/2.3/questions", Reply(200, page(items[:100], True)),
                       Reply(200, page(items[100:200], True)), Reply(200, page(items[200:])))

    def answers(path, params):
        if not path.startswith("/2.3/answers/"):
            return None
        ids = [int(i) for i in path.rsplit("/", 1)[1].split(";")]
        return Reply(200, page([{"answer_id": a, "question_id": a - 40_000, "score": a % 7,
                                 "creation_date": DAY_EPOCH + (a - 50_000) + 7200,
                                 "body": "<p>Use <code>df.merge</code> here.</p>",
                                 "is_accepted": True} for a in ids]))

    api_server.api.handler = answers
    window = make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))
    answer_calls = [r for r in api_server.api.requests if r.path.startswith("/2.3/answers/")]
    assert [len(r.path.rsplit("/", 1)[1].split(";")) for r in answer_calls] == [100, 100, 30]
    assert all(r.params["filter"] == "withbody" for r in answer_calls)
    by_id = {r.question_id: r for r in window.records}
    first = by_id[10_000]
    assert first.has_accepted_answer and first.accepted_answer_id == 50_000
    assert first.accepted_answer_score == 50_000 % 7
    assert first.time_to_accepted_answer_hours == pytest.approx(2.0)
    assert first.accepted_answer_length_chars == len("Use `df.merge` here.")
    assert first.accepted_answer_length_tokens == 8  # Use ` df . merge ` here .
    assert not by_id[20_000].has_accepted_answer
    assert by_id[20_000].time_to_accepted_answer_hours is None


def test_items_outside_the_window_are_dropped(api_server, clock):
    api_server.api.add("/2.3/questions",
                       Reply(200, page([question(1, offset=-5), question(2, offset=5)])))
    window = make_client(api_server, clock).fetch_window(DAY, DAY.replace(day=6))
    assert [r.question_id for r in window.records] == [2]
