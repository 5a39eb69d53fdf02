"""The daily predictions read, predict and write days a batch at a time: the rows must be the
ones a day-by-day pass writes, whatever the batches."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

import duckdb
import pytest

from so_assets.cli import main
from so_assets.stackexchange.sample_generator import generate_sample
from so_assets.steps import predictions
from so_assets.steps.predictions import ScorePredictionParams, day_batches
from so_assets.storage.stores import Stores

LOG = logging.getLogger(__name__)
START = date(2024, 5, 1)
DAYS = [START + timedelta(days=i) for i in range(16)]


def test_days_are_batched_by_count_and_by_questions(monkeypatch):
    monkeypatch.setattr(predictions, "BATCH_DAYS", 3)
    monkeypatch.setattr(predictions, "BATCH_QUESTIONS", 100)
    counts = {DAYS[5]: 10, DAYS[0]: 40, DAYS[1]: 50, DAYS[2]: 20, DAYS[3]: 500, DAYS[4]: 5,
              DAYS[6]: 1, DAYS[7]: 1}
    assert day_batches(counts) == [[DAYS[0], DAYS[1]], [DAYS[2]], [DAYS[3]],  # 500 alone
                                   [DAYS[4], DAYS[5], DAYS[6]], [DAYS[7]]]
    assert day_batches({}) == []


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> Stores:
    sample = tmp_path_factory.mktemp("sample")
    generate_sample(sample, n_questions=480, n_days=len(DAYS), start_day=START, seed=5,
                    n_tags=400)  # a long tail: tags the model never learned arrive
    out = tmp_path_factory.mktemp("evaluation")
    assert main(["evaluate", "--dataset", str(sample), "--out", str(out), "--models",
                 "tfidf_linear,tabular_ridge"]) == 0
    # the serving model as if trained on the first half: the days after it carry tags it never
    # learned, for the growing neighbour index to suggest
    record = out / "models" / "_production.json"
    saved = json.loads(record.read_text())
    saved["current"]["tag"]["train_cutoff"] = f"{DAYS[7].isoformat()}T00:00:00"
    record.write_text(json.dumps(saved))
    slug = next((out / "embeddings").iterdir()).name
    return Stores(out, slug)


def _rows(stores: Stores, table: str) -> list[tuple]:
    with duckdb.connect(str(stores.questions.path), read_only=True) as con:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND column_name NOT IN ('predicted_at')", [table]).fetchall()]
        return con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()


@pytest.mark.slow
def test_batches_write_what_a_day_by_day_pass_writes(evaluated, monkeypatch):
    params = ScorePredictionParams()
    one_day = {}
    with monkeypatch.context() as day_by_day:
        day_by_day.setattr(predictions, "BATCH_DAYS", 1)
        tagged = predictions.tag_predictions(evaluated, DAYS, LOG)
        predictions.score_predictions(evaluated, DAYS, params, LOG)
        one_day = {t: _rows(evaluated, t) for t in ("tag_predictions", "score_predictions")}
    with duckdb.connect(str(evaluated.questions.path), read_only=True) as con:
        kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM tag_predictions").fetchall()}
    assert kinds == {"cluster", "tag", "new_tag"} and tagged.questions == 480
    assert len(day_batches(dict.fromkeys(DAYS, 30))) == 1  # all 16 days in one batch now
    batched = predictions.tag_predictions(evaluated, DAYS, LOG)
    predictions.score_predictions(evaluated, DAYS, params, LOG)
    assert batched.per_day == tagged.per_day and batched.rows == tagged.rows
    for table, rows in one_day.items():
        assert _rows(evaluated, table) == rows, table
