"""The whole chain through `so-assets evaluate` (the steps, no Dagster), then `so-assets
predict` on its artifacts."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from so_assets.cli import main
from so_assets.models.core.base import Target
from so_assets.models.registry import TAG_MODELS, tag_model
from so_assets.stackexchange.sample_generator import generate_sample

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    sample = tmp_path_factory.mktemp("sample")
    generate_sample(sample, n_questions=600, n_days=6, start_day=date(2024, 5, 1), seed=11)
    out = tmp_path_factory.mktemp("evaluation")
    assert main(["evaluate", "--dataset", str(sample), "--out", str(out)]) == 0
    return out


def test_evaluate_trains_every_model_and_writes_the_report(evaluated):
    summary = json.loads((evaluated / "evaluation_summary.json").read_text())
    assert summary["success"] and summary["format"] == "sample"
    assert summary["questions"] == 600 and summary["n_clusters"] >= 2
    model_checks = {k: v for k, v in summary["checks"].items()
                    if k.endswith("beats_most_frequent_baseline")}
    assert len(model_checks) == len(TAG_MODELS) and all(model_checks.values())
    report = (evaluated / "reports" / "tag_evaluation" / "tag_evaluation_report.md").read_text()
    for spec in TAG_MODELS:
        assert f"| {spec.name.replace('_', chr(92) + '_')} |" in report
    for section in ("most\\_frequent\\_baseline", "Kept-tag level", "Per-label precision",
                    "published numbers (theirs, not ours)", "confusion_matrix.png"):
        assert section in report
    assert (evaluated / "reports" / "tag_evaluation" / "confusion_matrix.png").exists()
    with duckdb.connect(str(evaluated / "so_assets.duckdb"), read_only=True) as con:
        models = {r[0] for r in con.execute("SELECT DISTINCT model FROM tag_model_metrics"
                                            ).fetchall()}
    assert models == {s.name for s in TAG_MODELS} | {"most_frequent_baseline"}
    with duckdb.connect(str(evaluated / "so_assets.duckdb"), read_only=True) as con:
        f1 = dict(con.execute("SELECT model, value FROM tag_model_metrics WHERE level = "
                              "'clusters' AND metric = 'micro_f1'").fetchall())
    margin = 0.05  # every family clears the naive baseline by 5 points of test micro-F1
    weak = {m: round(v, 3) for m, v in f1.items()
            if m != "most_frequent_baseline" and v < f1["most_frequent_baseline"] + margin}
    assert not weak, (weak, f1["most_frequent_baseline"])
    for spec in TAG_MODELS:
        folder = evaluated / "models" / spec.asset_name / "current"
        assert (folder / "predictor.json").exists() and (folder / "metrics.json").exists()


def test_predict_uses_the_saved_artifacts(evaluated, capsys):
    title = "How do I merge two pandas dataframes on a column?"
    body = "<p>I have two DataFrames and want to join them like a SQL join.</p>"
    assert main(["predict", "--data-dir", str(evaluated), "--title", title, "--body", body]) == 0
    best = capsys.readouterr().out
    assert best.startswith("model: ") and "clusters" in best and "*" in best
    assert main(["predict", "--data-dir", str(evaluated), "--model", "tfidf_linear",
                 "--title", title, "--body", body]) == 0
    out = capsys.readouterr().out
    tags = [line.split()[-1] for line in out.split("tags:")[1].splitlines()[1:6]]
    assert "pandas" in tags or "python" in tags or "dataframe" in tags
    assert main(["predict", "--data-dir", str(evaluated), "--model", "sequence_dsf",
                 "--title", title, "--body", body]) == 0


@pytest.mark.parametrize("name", [s.name for s in TAG_MODELS])
def test_every_tag_model_predicts_through_the_command(evaluated, name, capsys):
    assert main(["predict", "--data-dir", str(evaluated), "--model", name, "--title",
                 "Reading a CSV file with pandas", "--body", "<p>read_csv fails</p>"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"model: {name}") and "clusters" in out and "tags" in out
    cluster_only = Target.TAGS not in tag_model(name).model.predicts
    assert ("none scored (this model predicts clusters only)" in out) == cluster_only


def test_evaluate_trains_only_the_models_named(tmp_path):
    """``--models``: those tag and score models (and the score task's mean baseline), their
    checks, and reports that list exactly them."""
    sample = tmp_path / "sample"
    generate_sample(sample, n_questions=300, n_days=3, start_day=date(2024, 5, 1), seed=5)
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--dataset", str(sample), "--out", str(out),
                 "--models", "tfidf_linear,tabular_ridge"]) == 0
    summary = json.loads((out / "evaluation_summary.json").read_text())
    assert set(summary["checks"]) >= {"tag_model_tfidf_linear:beats_most_frequent_baseline",
                                      "score_model_tabular_ridge:beats_mean_baseline"}
    assert {p.name for p in (out / "models").iterdir()} == {
        "tag_model_tfidf_linear", "score_model_tabular_ridge", "score_model_mean_baseline",
        "_shared", "_production.json"}
    assert [p.name.split("-")[0] for p in (out / "models" / "_shared").iterdir()] == [
        "tfidf_linear"]
    report = (out / "reports" / "score_evaluation" / "score_evaluation_report.md").read_text()
    assert "| tabular\\_ridge |" in report and "| xgboost |" not in report
