"""``so-assets evaluate`` materializes the code location's own assets: a new asset runs in it
unasked, its code names no asset, bad parameters are refused before anything runs, and one
model's failure costs that model only."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from so_assets.cli import main
from so_assets.definitions import defs
from so_assets.defs.evaluate import evaluate_dataset
from so_assets.stackexchange.sample_generator import generate_sample

PACKAGE = Path(__file__).resolve().parents[2] / "so_assets"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    generate_sample(folder, n_questions=300, n_days=3, start_day=date(2024, 5, 1), seed=5)
    return folder


def test_an_asset_added_to_the_definitions_runs_in_evaluate(sample, tmp_path):
    seen = {}

    @dg.asset(deps=["questions"])
    def throwaway_count() -> dg.MaterializeResult:
        seen["ran"] = True
        return dg.MaterializeResult(metadata={"rows": 1})

    extended = dg.Definitions.merge(defs, dg.Definitions(assets=[throwaway_count]))
    run = evaluate_dataset("sample", "sample", {"path": str(sample)}, tmp_path / "out",
                           model_names=["tfidf_linear"], definitions=extended)
    assert seen == {"ran": True} and run.success
    assert "throwaway_count" not in run.not_built and not run.failed
    assert run.checks["tag_model_tfidf_linear:beats_most_frequent_baseline"]
    assert {"tag_evaluation_report", "score_evaluation_report"} <= set(run.summaries)
    summary = json.loads((tmp_path / "out" / "evaluation_summary.json").read_text())
    assert summary["success"] and summary["failed"] == {}
    steps = summary["steps"]  # every step that ran, in the order it started, with its time
    assert {"questions", "tag_model_tfidf_linear", "throwaway_count"} <= set(steps)
    starts = [s["start"] for s in steps.values()]
    assert starts == sorted(starts) and all(s["seconds"] >= 0 for s in steps.values())
    assert list(steps).index("questions") < list(steps).index("tag_model_tfidf_linear")


def test_the_evaluate_code_names_no_asset():
    names = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    for module in ("defs/evaluate.py", "defs/in_process.py", "steps/evaluate.py"):
        source = (PACKAGE / module).read_text()
        quoted = set(re.findall(r"[\"']([a-z_]+)[\"']", source))
        assert not quoted & names, f"{module} names {sorted(quoted & names)}"


@pytest.mark.parametrize(("config", "message"), [
    ({"Cc": 1.0}, r"unknown parameter 'Cc' for TfidfLinearParams; valid: C, max_features"),
    ({"C": "strong"}, r"parameter 'C' must be float, not 'strong'"),
    ({"C": -1.0}, r"parameter 'C' must be > 0, not -1.0"),
])
def test_a_bad_model_parameter_is_refused_before_anything_runs(sample, tmp_path, config,
                                                               message):
    with pytest.raises(ValueError, match=message):
        evaluate_dataset("sample", "sample", {"path": str(sample)}, tmp_path / "out",
                         model_names=["tfidf_linear"],
                         run_config={"ops": {"tag_model_tfidf_linear": {"config": config}}})
    assert not (tmp_path / "out").exists()


def test_the_command_refuses_a_bad_parameter_in_one_line(sample, tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("ops:\n  tag_model_knn_votes:\n    config:\n      neighbours: 3\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--dataset", str(sample), "--out", str(tmp_path / "out"),
              "--models", "knn_votes", "-c", str(config)])
    assert str(exit_info.value) == ("so-assets evaluate: model 'knn_votes': unknown parameter "
                                    "'neighbours' for KnnVotesParams; valid: k, power")


def test_one_failing_model_costs_that_model_only(sample, tmp_path, monkeypatch, capsys):
    """The failed model is reported and the exit code is 1; the other model is trained,
    checked and in the report, which is built after the failure."""
    from so_assets.steps import models as model_steps

    train = model_steps.train_model

    def failing(stores, spec, *args, **kwargs):
        if spec.name == "knn_votes":
            raise RuntimeError("knn_votes broke on purpose")
        return train(stores, spec, *args, **kwargs)

    monkeypatch.setattr(model_steps, "train_model", failing)
    out = tmp_path / "out"
    code = main(["evaluate", "--dataset", str(sample), "--out", str(out),
                 "--models", "knn_votes,tfidf_linear"])
    printed = capsys.readouterr().out
    assert code == 1
    assert "FAILED tag_model_knn_votes: RuntimeError: knn_votes broke on purpose" in printed
    summary = json.loads((out / "evaluation_summary.json").read_text())
    assert not summary["success"]
    assert summary["failed"] == {"tag_model_knn_votes": "RuntimeError: knn_votes broke on "
                                                        "purpose"}
    assert summary["checks"]["tag_model_tfidf_linear:beats_most_frequent_baseline"]
    report = (out / "reports" / "tag_evaluation" / "tag_evaluation_report.md").read_text()
    assert "| tfidf\\_linear |" in report and "| knn\\_votes |" not in report
