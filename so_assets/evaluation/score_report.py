"""The score evaluation report: every score model on the same test split, as tables and plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from so_assets.evaluation.plots import new_figure, new_figure_row, save_png
from so_assets.evaluation.report import Report, Table, add_parameters, add_reference_numbers
from so_assets.evaluation.score_metrics import (
    AGE_BUCKETS,
    SCORE_BUCKETS,
    bucket_errors,
    log_scale,
    regression_metrics,
)

# Published by the reference project (100,000 StackOverflow questions, its own encoder and
# features): other data; shown for orientation only.
REFERENCE_RESULTS = (
    ("mean predictor", "RMSE 149.97"),
    ("TF-IDF + SVD + Ridge", "R² 0.0074"),
    ("title-only MLP", "R² 0.144"),
    ("body-only MLP", "R² 0.158"),
    ("dual-stream cross-attention", "R² 0.186"),
    ("dual-stream self-attention (MHSA), clipped tag count, early stopping",
     "R² 0.199, RMSE 134.24"),
)
COLUMNS = ("rmse", "mae", "r2", "spearman", "rmse_log", "mae_log", "r2_log", "spearman_log")


@dataclass
class ScoreResult:
    """One model's test predictions (raw scale) and what it cost."""

    name: str
    predicted: np.ndarray
    target: str
    train_seconds: float
    peak_rss_mb: float
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    importance: dict[str, float] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    """The parameters it was trained with, dotted names for nested ones."""

    def metrics(self, truth: np.ndarray) -> dict[str, float]:
        return regression_metrics(truth, self.predicted)


def score_report(results: list[ScoreResult], truth: np.ndarray, age_days: np.ndarray,
                 n_train: int, out_dir: Path, note: str = "") -> Report:
    """RMSE, MAE, R² and Spearman on the raw and the log scale for every model; errors by
    true-score bucket and by the age at which the score was read; plots."""
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = {r.name: r.metrics(truth) for r in results}
    ranked = sorted(results, key=lambda r: metrics[r.name]["rmse_log"])
    best = ranked[0]
    report = Report("score_evaluation", "Score prediction: evaluation on the test split",
                    figures={"best_model": best.name,
                             "best_rmse": metrics[best.name]["rmse"],
                             "best_r2": metrics[best.name]["r2"],
                             "best_rmse_log": metrics[best.name]["rmse_log"],
                             "test_questions": len(truth)})
    report.text(
        f"Every model on the same {len(truth):,} test questions (trained on {n_train:,}). "
        "Scores are heavy-tailed, so each figure is given on the raw scale and on the signed-"
        "log scale, sign(s)·log1p(|s|). Models learn the target their row names (log or raw) "
        f"and predict raw scores. Best on log-scale RMSE: **{best.name}**. {note}")
    table = report.table("models", Table(
        ["model", "target", *COLUMNS, "80% interval coverage", "train s", "peak RSS MB"]),
        summary=True)
    for r in ranked:
        m = metrics[r.name]
        coverage = (f"{np.mean((truth >= r.low) & (truth <= r.high)):.1%}"
                    if r.low is not None and r.high is not None else "")
        table.add(r.name, r.target, *[m[c] for c in COLUMNS], coverage,
                  f"{r.train_seconds:.1f}", f"{r.peak_rss_mb:,.0f}")
    for name, by, buckets in (("true score", truth, SCORE_BUCKETS),
                              ("age when the score was read", age_days, AGE_BUCKETS)):
        report.heading(f"Error by {name} ({best.name})")
        rows = bucket_errors(truth, best.predicted, by, buckets)
        if not rows:
            report.text("Not known for these questions.")
            continue
        buckets_table = report.table(f"by_{name.split()[0]}", Table(
            ["bucket", "questions", "rmse", "mae", "rmse_log", "mean error"]))
        for row in rows:
            buckets_table.add(row["bucket"], row["questions"], row["rmse"], row["mae"],
                              row["rmse_log"], row["mean_error"])
    report.heading("Plots")
    report.plot("predicted_vs_actual", _plot_scatter(ranked[:4], truth,
                                                     out_dir / "predicted_vs_actual.png"))
    report.plot("residuals", _plot_residuals(best, truth, out_dir / "residuals.png"))
    report.plot("r2_by_model", _plot_r2(ranked, metrics, out_dir / "r2_by_model.png"))
    for r in results:
        if r.importance:
            report.plot(f"feature_importance_{r.name}", _plot_importance(
                r, out_dir / f"feature_importance_{r.name}.png"))
    add_reference_numbers(report, "Other data (100,000 StackOverflow questions)"
                                  " and another encoder", REFERENCE_RESULTS)
    add_parameters(report, [(r.name, r.parameters) for r in ranked])
    return report


def _plot_scatter(results: list[ScoreResult], truth: np.ndarray, path: Path) -> Path:
    fig, axes = new_figure_row(len(results), width=3.2 * len(results), height=3.4)
    lo = float(min(log_scale(truth).min(), 0))
    hi = float(log_scale(truth).max()) + 0.5
    for ax, r in zip(axes, results, strict=True):
        ax.scatter(log_scale(truth), log_scale(r.predicted), s=6, alpha=0.35,
                   color="#3b75af")
        ax.plot([lo, hi], [lo, hi], color="grey", linewidth=0.8, linestyle=":")
        ax.set_title(r.name, fontsize=9)
        ax.set_xlabel("actual (signed log)")
    axes[0].set_ylabel("predicted (signed log)")
    fig.suptitle("Predicted against actual score")
    return save_png(fig, path)


def _plot_residuals(result: ScoreResult, truth: np.ndarray, path: Path) -> Path:
    fig, (left, right) = new_figure_row(2)
    residual = log_scale(result.predicted) - log_scale(truth)
    left.hist(residual, bins=40, color="#ef8636")
    left.set_xlabel("predicted - actual (signed log)")
    left.set_title(f"{result.name}: residuals")
    right.scatter(log_scale(result.predicted), residual, s=6, alpha=0.35, color="#8d69b8")
    right.axhline(0, color="grey", linewidth=0.8)
    right.set_xlabel("predicted (signed log)")
    right.set_ylabel("residual")
    right.set_title("residual against prediction")
    return save_png(fig, path)


def _plot_r2(results: list[ScoreResult], metrics: dict[str, dict[str, float]], path: Path
             ) -> Path:
    fig, ax = new_figure(9, 4)
    x = np.arange(len(results))
    ax.bar(x - 0.2, [metrics[r.name]["r2"] for r in results], 0.4, label="R² (raw)")
    ax.bar(x + 0.2, [metrics[r.name]["r2_log"] for r in results], 0.4, label="R² (log)")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x, [r.name for r in results], rotation=30, ha="right", fontsize=8)
    ax.set_title("R² on the test split")
    ax.legend(fontsize=8)
    return save_png(fig, path)


def _plot_importance(result: ScoreResult, path: Path) -> Path:
    items = list(result.importance.items())[:15][::-1]
    fig, ax = new_figure(7, 4.5)
    ax.barh([k for k, _ in items], [v for _, v in items], color="#519e3e")
    ax.set_xlabel("share of total gain")
    ax.set_title(f"{result.name}: feature importance")
    return save_png(fig, path)
