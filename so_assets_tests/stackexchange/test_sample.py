"""The bundled sample: its shape, its generator, and serving it through the API client."""

from __future__ import annotations

import filecmp
import json
from collections import Counter
from datetime import date, datetime, timedelta

from so_assets.stackexchange.client import StackExchangeClient
from so_assets.stackexchange.html_text import CODE_START, html_to_text
from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR, SampleTransport, sample_manifest
from so_assets.stackexchange.sample_generator import generate_sample
from so_assets_tests.conftest import sample_batches


def sample_records():
    days = SampleTransport().days()
    return [r for b in sample_batches(days) for r in b.records]


def test_sample_has_the_promised_shape():
    records = sample_records()
    unique = {r.question_id: r for r in records}
    assert len(unique) >= 1000
    assert len({r.creation_day for r in records}) >= 14
    tags = Counter(t for r in unique.values() for t in r.tags)
    assert len(tags) >= 40
    assert sum(1 for n in tags.values() if n < 10) >= 10  # a long tail below any threshold
    assert tags.most_common(1)[0][1] > 20 * min(tags.values())
    assert sum(r.num_tags > 1 for r in unique.values()) / len(unique) > 0.7
    texts = [html_to_text(r.question_text) for r in unique.values()]
    assert sum(CODE_START in t for t in texts) / len(texts) > 0.4
    scores = sorted(r.question_score for r in unique.values())
    assert scores[0] < 0 and scores[-1] > 1000 and scores[len(scores) // 2] <= 2
    accepted = [r for r in unique.values() if r.has_accepted_answer]
    assert 0.3 < len(accepted) / len(unique) < 0.7
    delays = sorted(r.time_to_accepted_answer_hours for r in accepted)
    assert delays[0] > 0 and delays[len(delays) // 10] < 0.25 and delays[-1] > 48
    assert len(records) > len(unique)  # some items served twice, as the API sometimes does


def test_sample_is_small_and_matches_its_generator(tmp_path):
    size = sum(p.stat().st_size for p in DEFAULT_SAMPLE_DIR.rglob("*") if p.is_file())
    assert size < 5_000_000
    manifest = sample_manifest()
    regenerated = generate_sample(
        tmp_path, n_questions=manifest["questions"], n_days=manifest["days"],
        start_day=date.fromisoformat(manifest["first_day"]), seed=manifest["seed"])
    assert regenerated == manifest
    for sub in ("questions", "answers"):
        names = sorted(p.name for p in (DEFAULT_SAMPLE_DIR / sub).iterdir())
        match, mismatch, errors = filecmp.cmpfiles(DEFAULT_SAMPLE_DIR / sub, tmp_path / sub,
                                                   names, shallow=False)
        assert mismatch == [] and errors == [] and len(match) == manifest["days"]


def test_generator_scales_and_ids_grow_with_time(tmp_path):
    manifest = generate_sample(tmp_path, n_questions=3000, n_days=3, seed=7)
    assert manifest["questions"] == 3000
    items = [i for p in sorted((tmp_path / "questions").glob("*.json"))
             for i in json.loads(p.read_text())["items"]]
    pairs = sorted({(i["creation_date"], i["question_id"]) for i in items})
    assert [q for _, q in pairs] == sorted(q for _, q in pairs)


def test_sample_transport_pages_like_the_api():
    day = SampleTransport().days()[3]
    start = datetime(day.year, day.month, day.day)
    client = StackExchangeClient(SampleTransport(), api_root="sample://", page_size=10)
    window = client.fetch_window(start, start + timedelta(days=1))
    served = json.loads((DEFAULT_SAMPLE_DIR / "questions" / f"{day}.json").read_text())["items"]
    assert [r.question_id for r in window.records] == [i["question_id"] for i in served]
    assert client.calls > len(served) // 10  # it paged
    assert all(r.question_text for r in window.records)


def test_a_generated_sample_serves_more_pages_a_day_than_the_keyless_api(tmp_path):
    import logging

    from so_assets.stackexchange.client import PAGES_WITHOUT_KEY
    from so_assets.stackexchange.sources.sample import SampleSource

    questions = 100 * PAGES_WITHOUT_KEY + 200  # 27 pages of 100 in its one day
    generate_sample(tmp_path, n_questions=questions, n_days=1, seed=3)
    source = SampleSource(path=str(tmp_path))
    records = [r for b in source.day_batches(source.days(), logging.getLogger("test"))
               for r in b.records]
    assert len({r.question_id for r in records}) == questions


def test_a_day_s_file_is_read_once_while_its_pages_are_served_and_again_when_it_changes(
        tmp_path, monkeypatch):
    from so_assets.stackexchange import sample

    generate_sample(tmp_path, n_questions=120, n_days=1, seed=4)
    reads = Counter()
    load = sample._load
    monkeypatch.setattr(sample, "_load", lambda path: reads.update(
        [f"{path.parent.name}/{path.name}"]) or load(path))
    transport = SampleTransport(tmp_path)
    day = transport.days()[0]
    start = datetime(day.year, day.month, day.day)
    client = StackExchangeClient(transport, api_root="sample://", page_size=10)
    path = tmp_path / "questions" / f"{day}.json"
    saved = json.loads(path.read_text())
    window = client.fetch_window(start, start + timedelta(days=1))
    assert window.reported_count == len(saved["items"]) >= 120
    assert client.calls >= 12 and reads[f"questions/{day}.json"] == 1
    saved["items"] = saved["items"][:50]  # the day rewritten, as a test's new data is
    path.write_text(json.dumps(saved))
    assert len(client.fetch_window(start, start + timedelta(days=1)).records) == 50
    assert reads[f"questions/{day}.json"] == 2
