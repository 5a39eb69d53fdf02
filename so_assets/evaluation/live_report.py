"""The live quality report: the serving model on the questions that arrive, day by day."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from so_assets.evaluation.plots import new_figure, new_figure_row, save_png
from so_assets.evaluation.report import Report, Table


def _series(by_day: Mapping[str, Mapping[str, float]], metric: str) -> list[float]:
    return [by_day[d].get(metric, math.nan) for d in by_day]


def live_report(table: Table, by_day: Mapping[str, Mapping[str, float]], out_dir: Path,
                rolling_days: int, quality_margin: Mapping[str, float],
                drift_auc: Mapping[str, float], unseen: Mapping[str, float]) -> Report:
    """Tables and plots of every measured day (``by_day``: ISO day -> metric -> value)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    days = list(by_day)
    latest = by_day[days[-1]] if days else {}
    report = Report("live_quality", "Live quality: the production model on arriving questions",
                    figures={k: v for k, v in {
                        "days_measured": len(days),
                        "latest_rolling_all_tags_micro_f1": latest.get("rolling_all_tags_micro_f1"),
                        "latest_test_micro_f1": latest.get("test_micro_f1"),
                        "latest_input_drift_auc": latest.get("input_drift_auc"),
                    }.items() if v is not None and not (isinstance(v, float) and math.isnan(v))})
    report.text(
        "Each day's questions created after the serving model's training cutoff, scored "
        "against the tags their askers gave (prequential: the model never learned from "
        "them). Every-tag figures count the tags the model cannot predict as missed (what the "
        "checks judge, against the same figure on the test split). Rolling figures pool the "
        f"last {rolling_days} days' counts. Checks: live "
        f"quality warns {quality_margin['warn']:.2f} below the model's test micro-F1 and fails "
        f"{quality_margin['fail']:.2f} below; input drift (a domain classifier's "
        f"cross-validated ROC AUC, day against training vectors) warns at {drift_auc['warn']} "
        f"and fails at {drift_auc['fail']}; unseen tags warn at {unseen['warn']:.0%} and fail "
        f"at {unseen['fail']:.0%} of the day's distinct tags. Score error is measured only "
        "where it is comparable: questions whose score was read a day or more after posting, "
        "each predicted at the age its score was read.")
    report.table("days", table, summary=True)
    if days:
        report.plot("quality_over_days", _plot_quality(days, by_day, out_dir))
        report.plot("drift_over_days", _plot_drift(days, by_day, drift_auc, unseen, out_dir))
    return report


def _plot_quality(days: list[str], by_day, out_dir: Path) -> Path:
    fig, ax = new_figure(8, 4)
    x = range(len(days))
    ax.plot(x, _series(by_day, "all_tags_micro_f1"), "o-", color="#3b75af", label="day")
    ax.plot(x, _series(by_day, "rolling_all_tags_micro_f1"), "-", color="#ef8636",
            label="rolling")
    ax.plot(x, _series(by_day, "test_micro_f1"), "--", color="grey", label="test (model's)")
    ax.set_xticks(list(x), days, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("micro-F1 over every tag")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("Live micro-F1 over every tag the askers gave")
    return save_png(fig, out_dir / "quality_over_days.png")


def _plot_drift(days: list[str], by_day, drift_auc, unseen, out_dir: Path) -> Path:
    fig, (left, right) = new_figure_row(2, 10, 4)
    x = range(len(days))
    left.plot(x, _series(by_day, "input_drift_auc"), "o-", color="#8d69b8")
    left.axhline(drift_auc["fail"], color="#c44e52", linestyle=":", label="fail")
    left.axhline(drift_auc["warn"], color="#dd8452", linestyle=":", label="warn")
    left.set_ylim(0.4, 1.0)
    left.set_title("Input drift (domain classifier AUC)")
    right.plot(x, _series(by_day, "unseen_tag_rate"), "o-", color="#55a868")
    right.axhline(unseen["fail"], color="#c44e52", linestyle=":", label="fail")
    right.axhline(unseen["warn"], color="#dd8452", linestyle=":", label="warn")
    right.set_title("Distinct tags unseen in training")
    for ax in (left, right):
        ax.set_xticks(list(x), days, rotation=45, ha="right", fontsize=7)
        ax.legend(fontsize=8)
    return save_png(fig, out_dir / "drift_over_days.png")
