"""`so-assets serve` as a user runs it: a subprocess on 127.0.0.1, every endpoint called over
real HTTP, its page typed into in a real browser, a new production version published while
requests keep coming (none fails), and each kind of bad input answered with a 4xx naming the
field while the service stays up."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from so_assets.cli import main
from so_assets.models.publication.artifacts import current_dir
from so_assets.models.publication.production import Candidate, decision, record_production
from so_assets.stackexchange.sample_generator import generate_sample
from so_assets_tests.deploy.services import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.slow

QUESTION = {"title": "How do I merge two pandas dataframes on a column?",
            "body": "<p>I want to join two DataFrames like a SQL join.</p>"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder whose production models were promoted by a real (small) evaluate."""
    sample = tmp_path_factory.mktemp("sample")
    generate_sample(sample, n_questions=400, n_days=4, start_day=date(2024, 5, 1), seed=7)
    out = tmp_path_factory.mktemp("data") / "out"
    assert main(["evaluate", "--dataset", str(sample), "--out", str(out),
                 "--models", "tfidf_linear,knn_votes,tabular_ridge"]) == 0
    assert json.loads((out / "models" / "_production.json").read_text())["current"]["tag"]
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def service(data_dir):
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("so-assets")), "serve", "--data-dir",
         str(data_dir), "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=2).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"the service never answered: {process.stdout.read()[-2000:]}")
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_every_endpoint_answers(service):
    health = requests.get(f"{service}/healthz", timeout=10).json()
    assert health["status"] == "ok"
    served = requests.get(f"{service}/v1/models", timeout=10).json()["serving"]
    assert {m["task"] for m in served} == {"tag", "score"}
    one = requests.post(f"{service}/v1/suggest", json={**QUESTION, "k": 4}, timeout=30).json()
    assert one["model"] == health["model"] and len(one["tags"]) == 4
    assert {"tag", "score", "above_threshold", "cluster", "path"} <= set(one["tags"][0])
    assert one["clusters"][0]["path"] and one["score"]["horizon_days"] == 365.0
    assert any(t["tag"] in ("pandas", "python", "dataframe") for t in one["tags"])
    batch = requests.post(f"{service}/v1/suggest-batch", json={
        "questions": [QUESTION, {"title": "Docker container cannot reach the host"}]},
        timeout=30).json()["suggestions"]
    assert len(batch) == 2 and len(batch[0]["tags"]) == 5  # k defaults to 5
    assert [t["tag"] for t in batch[0]["tags"][:4]] == [t["tag"] for t in one["tags"]]
    named = requests.post(f"{service}/v1/suggest", json={**QUESTION, "model": "tfidf_linear"},
                          timeout=60).json()
    assert named["model"] == "tfidf_linear"
    docs = requests.get(f"{service}/openapi.json", timeout=10).json()
    assert {"/v1/suggest", "/v1/suggest-batch", "/v1/models", "/healthz"} <= set(docs["paths"])
    assert "<textarea" in requests.get(f"{service}/", timeout=10).text


def test_the_page_suggests_tags_as_a_person_types(service):
    from playwright.sync_api import expect, sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/v1/suggest" in r.url else None)
        page.goto(service)
        rows = page.locator("#tags tbody tr")
        expect(rows).to_have_count(0)
        page.locator("#title").press_sequentially(QUESTION["title"], delay=20)
        expect(rows).to_have_count(8)  # the page asks for k=8
        # debounced: a request when typing pauses, not one per keystroke
        assert 1 <= len(asked) < len(QUESTION["title"]) / 4, asked
        first = rows.locator("td:first-child")
        expect(first).to_have_text(_suggested(service, QUESTION["title"], ""))
        expect(rows.first.locator("td").nth(2)).not_to_be_empty()  # each tag's cluster
        expect(page.locator("#status")).to_contain_text(
            requests.get(f"{service}/healthz", timeout=10).json()["model"])
        body = "My docker container cannot reach a port published on the host network."
        page.locator("#body").fill(body)
        expect(first).to_have_text(_suggested(service, QUESTION["title"], body))
        page.locator("#title").fill("")
        expect(rows).to_have_count(0)
        browser.close()


def _suggested(service: str, title: str, body: str) -> list[str]:
    """The tags the service gives the page's question (k=8, as the page asks)."""
    answer = requests.post(f"{service}/v1/suggest", json={"title": title, "body": body, "k": 8},
                           timeout=30).json()
    return [t["tag"] for t in answer["tags"]]


@pytest.mark.parametrize(("send", "status", "field"), [
    ({"json": {"title": "   "}}, 422, ["body", "title"]),
    ({"json": {"title": "t", "body": "x" * (10 * 2**20)}}, 413, ["body"]),
    ({"data": b'{"title": "caf\xff\xfe"}', "headers": {"Content-Type": "application/json"}},
     400, ["body"]),
    ({"json": {"title": 42}}, 422, ["body", "title"]),
    ({"json": {"title": "t", "k": "five"}}, 422, ["body", "k"]),
    ({"json": {"title": "t", "k": 0}}, 422, ["body", "k"]),
    ({"json": {"title": "t", "model": "no_such_model"}}, 422, ["body", "model"]),
    ({"json": {"title": "t", "tittle": "typo"}}, 422, ["body", "tittle"]),
])
def test_bad_input_gets_a_4xx_naming_the_field(service, send, status, field):
    answer = requests.post(f"{service}/v1/suggest", timeout=30, **send)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"][0]["loc"][: len(field)] == field
    assert requests.get(f"{service}/healthz", timeout=10).ok  # still up


def test_a_batch_over_the_limit_is_refused(service):
    answer = requests.post(f"{service}/v1/suggest-batch",
                           json={"questions": [QUESTION] * 65}, timeout=30)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body",
                                                                              "questions"]


def test_a_new_production_version_is_picked_up_without_a_failed_request(service, data_dir):
    before = requests.get(f"{service}/v1/models", timeout=10).json()["serving"][0]
    other = "tfidf_linear" if before["model"] != "tfidf_linear" else "knn_votes"
    failures, answers, stop = [], [], threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            reply = requests.post(f"{service}/v1/suggest", json=QUESTION, timeout=60)
            (answers if reply.ok else failures).append(reply.json().get("model"))

    clients = [threading.Thread(target=keep_asking) for _ in range(2)]
    for client in clients:
        client.start()
    time.sleep(2)
    models = data_dir / "models"
    folder = current_dir(models, f"tag_model_{other}")
    record_production(models, [decision(Candidate(
        "tag", other, f"tag_model_{other}", folder.name, 0.9, 0.1, True, "", True, True),
        "promoted by the test")])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not answers or answers[-1] != other):
        time.sleep(0.5)
    stop.set()
    for client in clients:
        client.join()
    assert failures == [] and answers[-1] == other and before["model"] in answers
    served = requests.get(f"{service}/v1/models", timeout=10).json()["serving"][0]
    assert served["model"] == other and served["version"] == folder.name
