"""Days arriving one by one on a real instance: models trained on robotics.SE, then a day of
robotics questions and days of crypto.SE questions arrive. The automation predicts each new day
once (and no other day); live quality and input drift hold on the robotics day and fail on the
crypto days; after three failing days the drift sensor requests a retrain saying why."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from so_assets.definitions import defs as code_location
from so_assets.defs.in_process import materialize_in_process, resource_config
from so_assets.defs.resources import EncoderResource, SourceResource, StorageResource
from so_assets.defs.serving import RETRAIN_REASON_TAG, retrain_on_drift
from so_assets.embedding.config import EncoderConfig
from so_assets.models.registry import MODELS
from so_assets_tests.conftest import instance_home, real_path

pytestmark = pytest.mark.slow

FIRST = date(2024, 6, 1)
TRAIN_DAYS = 6  # robotics, 200 questions a day
ARRIVING = ["robotics", "crypto", "crypto", "crypto"]  # then one day of each, 150 questions


def kaggle_rows(name: str) -> list[dict]:
    with zipfile.ZipFile(real_path("stackexchange-tags-kaggle", f"{name}.csv.zip")) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def sample_folder(folder: Path) -> list[date]:
    """A sample-format folder (the API's JSON, one file a day) of real questions; the days."""
    robotics, crypto = kaggle_rows("robotics"), kaggle_rows("crypto")
    days: list[tuple[date, list[dict], int]] = [
        (FIRST + timedelta(days=i), robotics[i * 200:(i + 1) * 200], 0)
        for i in range(TRAIN_DAYS)]
    taken = {"robotics": TRAIN_DAYS * 200, "crypto": 0}
    for k, site in enumerate(ARRIVING):
        rows = (robotics if site == "robotics" else crypto)[taken[site]:taken[site] + 150]
        taken[site] += 150
        days.append((FIRST + timedelta(days=TRAIN_DAYS + k), rows,
                     1_000_000 if site == "crypto" else 0))
    (folder / "questions").mkdir(parents=True)
    (folder / "answers").mkdir()
    for day, rows, offset in days:
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        items = [{"question_id": int(r["id"]) + offset, "creation_date": start + 60 + i,
                  "title": r["title"], "body": r["content"], "tags": r["tags"].split(),
                  "score": 0, "is_answered": False, "view_count": 1, "answer_count": 0,
                  "owner": {"user_id": 1, "reputation": 10}} for i, r in enumerate(rows)]
        (folder / "questions" / f"{day}.json").write_text(json.dumps({"items": items}))
        (folder / "answers" / f"{day}.json").write_text(json.dumps({"items": []}))
    return [d for d, _, _ in days]


def live_figure(data: Path, day: str, metric: str) -> float:
    import duckdb

    with duckdb.connect(str(data / "so_assets.duckdb"), read_only=True) as con:
        return con.execute("SELECT value FROM live_tag_quality WHERE creation_day = ? AND "
                           "metric = ?", [day, metric]).fetchone()[0]


def test_arriving_days_are_predicted_once_and_drift_fails_on_shifted_days_only(tmp_path):
    days = sample_folder(tmp_path / "sample")
    data = tmp_path / "data"
    instance = dg.DagsterInstance.from_config(str(instance_home(tmp_path / "home")))
    encoder = EncoderConfig()
    resources = {"storage": StorageResource(data_dir=str(data)),
                 "source": SourceResource(kind="sample", options={"path": str(tmp_path /
                                                                               "sample")}),
                 "encoder": EncoderResource(**resource_config(data, "sample", "", {},
                                                              encoder)["encoder"])}
    defs = dg.Definitions(assets=code_location.assets, asset_checks=code_location.asset_checks,
                          sensors=code_location.sensors, resources=resources)
    kept = {"tag_model_tfidf_linear", "tag_model_knn_votes", "score_model_mean_baseline"}
    train_end = days[TRAIN_DAYS - 1]
    trained = materialize_in_process(
        defs, first_day=days[0].isoformat(), last_day=train_end.isoformat(),
        resources={}, sized={"min_tag_count": 5, "n_clusters": 20}, extra_config={},
        excluded={s.asset_name for s in MODELS} - kept, instance=instance)
    assert not trained.failed, trained.failed
    assert trained.checks["production_models:serving_models_beat_their_baselines"]

    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    now = datetime(2024, 6, 20, 12, tzinfo=UTC)  # no cadence tick falls in the replay
    cursor = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                               evaluation_time=now).cursor  # what is there
    statuses, recovered = {}, {}
    for day, site in zip(days[TRAIN_DAYS:], ARRIVING, strict=True):
        key = day.isoformat()
        assert job.execute_in_process(instance=instance, partition_key=key,
                                      asset_selection=[dg.AssetKey("raw_questions")]).success
        now += timedelta(minutes=1)
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor,
                                                 evaluation_time=now)
        cursor = tick.cursor
        requested = {k.to_user_string(): set(tick.get_requested_partitions(k))
                     for k in graph.get_all_asset_keys() if tick.get_num_requested(k)}
        daily = {k: v for k, v in requested.items() if v != {None}}
        assert daily == {name: {key} for name in (
            "questions", "question_embeddings", "question_token_embeddings", "tag_predictions",
            "score_predictions", "live_tag_quality")}, daily  # this day, nothing else
        result = job.execute_in_process(
            instance=instance, partition_key=key,
            asset_selection=[dg.AssetKey(name) for name in daily])
        assert result.success
        statuses[site, key] = {e.check_name: e.passed
                               for e in result.get_asset_check_evaluations()}
        recovered[key] = live_figure(data, key, "new_tag_recall")
        now += timedelta(minutes=1)
        again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor,
                                                  evaluation_time=now)
        cursor = again.cursor
        assert not any(key in again.get_requested_partitions(k)  # predicted once
                       for k in graph.get_all_asset_keys() if again.get_num_requested(k))

    robotics = [s for (site, _), s in statuses.items() if site == "robotics"]
    crypto = [s for (site, _), s in statuses.items() if site == "crypto"]
    assert all(s["no_input_drift"] and s["live_quality_holds"] for s in robotics), statuses
    assert all(not s["no_input_drift"] and not s["few_unseen_tags"] for s in crypto), statuses
    assert not crypto[-1]["live_quality_holds"], statuses
    # crypto's tags were new to the model: on the first crypto day the index holds robotics
    # questions only; a day on, it holds crypto's and suggests their tags
    crypto_days = [k for (site, k) in statuses if site == "crypto"]
    assert recovered[crypto_days[0]] < 0.05 and recovered[crypto_days[-1]] > 0.3, recovered

    request = retrain_on_drift(dg.build_sensor_context(instance=instance, definitions=defs))
    assert isinstance(request, dg.RunRequest), request
    assert "no_input_drift" in request.tags[RETRAIN_REASON_TAG]
