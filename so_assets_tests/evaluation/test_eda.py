"""The EDA statistics and plots, on the sample loaded into a real DuckDB file."""

from __future__ import annotations

import matplotlib.image
import pytest

from so_assets.evaluation.eda import build_eda_report, compute_eda, render_eda
from so_assets.stackexchange.sample import SampleTransport
from so_assets.storage.question_stats import question_aggregates
from so_assets.storage.question_store import QuestionStore
from so_assets.storage.questions_refresh import refresh_questions
from so_assets_tests.conftest import sample_batches


@pytest.fixture(scope="module")
def stats(tmp_path_factory):
    store = QuestionStore(tmp_path_factory.mktemp("eda") / "q.duckdb")
    batches = sample_batches(SampleTransport().days())
    store.replace_partitions(batches, "sample", "stackoverflow")
    refresh_questions(store)
    return compute_eda(question_aggregates(store))


def test_statistics_describe_the_sample(stats):
    assert stats.questions == 1400 and stats.distinct_tags >= 40
    assert stats.tag_counts[0][0] == "python"
    assert stats.score_summary["max"] > 1000 and stats.score_summary["skewness"] > 5
    assert 0.3 < stats.answer_null_share["accepted_answer_id"] < 0.7
    assert stats.answer_null_share["accepted_answer_score"] == pytest.approx(
        stats.answer_null_share["accepted_answer_id"])
    assert sum(n for _, n in stats.tags_per_question) == stats.questions


def test_mixture_finds_the_minutes_hours_days_modes(stats):
    means = stats.gmm["means_log10_hours"]
    assert len(means) >= 3
    assert min(means) < 0 < max(means) and max(means) > 1.5  # < 1 h and > 30 h
    assert sum(stats.gmm["weights"]) == pytest.approx(1, abs=1e-3)


def test_plots_are_real_images(stats, tmp_path):
    plots = render_eda(stats, tmp_path)
    assert set(plots) == {"tag_frequencies", "tags_per_question", "score_distribution",
                          "answer_sparsity", "time_to_accepted_answer"}
    for path in plots.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 400
        assert image[..., :3].std() > 0.05  # not a blank canvas
    report = build_eda_report(stats, tmp_path)
    assert [p.name for p in report.plots] == list(plots)
    markdown = report.markdown()
    assert "![time\\_to\\_accepted\\_answer](time_to_accepted_answer.png)" in markdown
    assert report.tables["top_tags"].rows[0] == ["python", stats.tag_counts[0][1]]
    assert report.figures["questions"] == 1400


def test_an_empty_table_is_a_clear_error(tmp_path):
    store = QuestionStore(tmp_path / "empty.duckdb")
    with store.connect():
        pass
    with pytest.raises(ValueError, match="questions table is empty"):
        question_aggregates(store)
