"""Exploration of the questions table: the seed report's statistics and plots.

Every statistic arrives aggregated (computed inside DuckDB by the storage layer); only samples
of scores and of log times to the accepted answer are arrays here, for the plots and the
Gaussian mixture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from so_assets.evaluation.plots import new_figure, save_png
from so_assets.evaluation.report import Report, Table

MIN_HOURS = 1 / 60  # a self-answer posted with its question: count it as one minute


class QuestionAggregates(Protocol):
    questions: int
    tag_counts: list[tuple[str, int]]
    tags_per_question: list[tuple[int, int]]
    score_summary: dict[str, float]
    score_sample: np.ndarray
    answer_null_share: dict[str, float]
    hours_to_accepted_sample: np.ndarray


@dataclass
class EdaStats:
    questions: int
    distinct_tags: int
    tag_counts: list[tuple[str, int]]
    tags_per_question: list[tuple[int, int]]
    score_summary: dict[str, float]
    scores: np.ndarray
    answer_null_share: dict[str, float]
    log10_hours: np.ndarray
    gmm: dict[str, list[float]] = field(default_factory=dict)
    tags_below: dict[int, int] = field(default_factory=dict)


def compute_eda(aggregates: QuestionAggregates, top_tags: int = 30,
                max_gmm_components: int = 6, seed: int = 0) -> EdaStats:
    """The report's statistics, and the mixture of log times to the accepted answer."""
    counts = np.array([n for _, n in aggregates.tag_counts])
    log_hours = np.log10(np.maximum(aggregates.hours_to_accepted_sample, MIN_HOURS))
    stats = EdaStats(
        questions=aggregates.questions,
        distinct_tags=len(aggregates.tag_counts),
        tag_counts=aggregates.tag_counts[:top_tags],
        tags_per_question=aggregates.tags_per_question,
        score_summary=aggregates.score_summary,
        scores=aggregates.score_sample,
        answer_null_share=aggregates.answer_null_share,
        log10_hours=log_hours,
        tags_below={k: int((counts < k).sum()) for k in (5, 10, 100)},
    )
    if len(log_hours) >= 10:
        stats.gmm = fit_mixture(log_hours, max_gmm_components, seed)
    return stats


def fit_mixture(values: np.ndarray, max_components: int, seed: int) -> dict[str, list[float]]:
    """The Gaussian mixture with the lowest BIC among 1..``max_components`` components."""
    from sklearn.mixture import GaussianMixture

    x = values.reshape(-1, 1)
    best: GaussianMixture | None = None
    best_bic = np.inf
    for k in range(1, min(max_components, len(values) // 5) + 1):
        model = GaussianMixture(n_components=k, random_state=seed, n_init=2).fit(x)
        bic = model.bic(x)
        if bic < best_bic:
            best, best_bic = model, bic
    assert best is not None
    order = np.argsort(best.means_.ravel())
    return {
        "weights": best.weights_[order].round(4).tolist(),
        "means_log10_hours": best.means_.ravel()[order].round(4).tolist(),
        "stds_log10_hours": np.sqrt(best.covariances_.ravel()[order]).round(4).tolist(),
        "bic": [round(float(best_bic), 2)],
    }


def render_eda(stats: EdaStats, out_dir: Path) -> dict[str, Path]:
    """Write the five plots as PNG files; returns them by name."""
    return {
        "tag_frequencies": _plot_tags(stats, out_dir / "tag_frequencies.png"),
        "tags_per_question": _plot_tags_per_question(stats, out_dir / "tags_per_question.png"),
        "score_distribution": _plot_scores(stats, out_dir / "score_distribution.png"),
        "answer_sparsity": _plot_sparsity(stats, out_dir / "answer_sparsity.png"),
        "time_to_accepted_answer": _plot_delay(stats, out_dir / "time_to_accepted_answer.png"),
    }


def _plot_tags(stats: EdaStats, path: Path) -> Path:
    fig, ax = new_figure(8, 6)
    names = [str(t) for t, _ in stats.tag_counts][::-1]
    ax.barh(names, [n for _, n in stats.tag_counts][::-1], color="#3b75af")
    ax.set_xlabel("questions")
    ax.set_title(f"Top {len(names)} of {stats.distinct_tags} tags "
                 f"({stats.tags_below[10]} tags seen fewer than 10 times)")
    ax.tick_params(axis="y", labelsize=8)
    return save_png(fig, path)


def _plot_tags_per_question(stats: EdaStats, path: Path) -> Path:
    fig, ax = new_figure()
    ax.bar([k for k, _ in stats.tags_per_question], [n for _, n in stats.tags_per_question],
           color="#519e3e")
    ax.set_xlabel("tags per question")
    ax.set_ylabel("questions")
    ax.set_title("Tags per question")
    return save_png(fig, path)


def _plot_scores(stats: EdaStats, path: Path) -> Path:
    fig, ax = new_figure()
    s = stats.score_summary
    # Integer-centred bins, log-spaced away from zero on both sides.
    top, bottom = max(stats.scores.max(), 1.0), max(-stats.scores.min(), 1.0)
    pos = np.unique(np.round(np.logspace(0, np.log10(top + 1), 25)))
    neg = np.unique(np.round(np.logspace(0, np.log10(bottom + 1), 8)))
    bins = np.unique(np.concatenate([-(neg - 0.5), [-(bottom + 0.5)], pos - 0.5, [top + 0.5]]))
    ax.hist(stats.scores, bins=bins, color="#ef8636")
    ax.set_xscale("symlog")
    ax.set_yscale("log")
    ax.set_xlabel("question score (symlog)")
    ax.set_ylabel("questions (log)")
    ax.set_title(f"Score: min {s['min']:.0f}, median {s['median']:.0f}, max {s['max']:.0f}, "
                 f"skewness {s['skewness']:.1f}")
    return save_png(fig, path)


def _plot_sparsity(stats: EdaStats, path: Path) -> Path:
    fig, ax = new_figure()
    names = list(stats.answer_null_share)
    ax.barh(names, [100 * stats.answer_null_share[n] for n in names], color="#c53a32")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of questions with no value")
    ax.set_title("Accepted-answer metrics: missing values")
    return save_png(fig, path)


def _plot_delay(stats: EdaStats, path: Path) -> Path:
    fig, ax = new_figure()
    values = stats.log10_hours
    if len(values) == 0:
        ax.text(0.5, 0.5, "no accepted answers", ha="center", transform=ax.transAxes)
        return save_png(fig, path)
    ax.hist(values, bins=40, density=True, color="#8d69b8", alpha=0.6, label="questions")
    if stats.gmm:
        grid = np.linspace(values.min() - 0.5, values.max() + 0.5, 400)
        total = np.zeros_like(grid)
        for w, m, sd in zip(stats.gmm["weights"], stats.gmm["means_log10_hours"],
                            stats.gmm["stds_log10_hours"], strict=True):
            part = w * np.exp(-0.5 * ((grid - m) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
            total += part
            ax.plot(grid, part, "--", linewidth=1, label=f"{10 ** m:.2g} h ({w:.0%})")
        ax.plot(grid, total, color="black", linewidth=1.5, label="mixture")
    ax.set_xlabel("log10 hours to the accepted answer")
    ax.set_ylabel("density")
    ax.set_title(f"Time to accepted answer ({len(stats.gmm.get('weights', []))}-component "
                 "Gaussian mixture, BIC-selected)")
    ax.legend(fontsize=8)
    return save_png(fig, path)


def build_eda_report(stats: EdaStats, out_dir: Path) -> Report:
    """The report: summary lines, the top tags as a table, the five plots (written to
    ``out_dir``) and the headline figures."""
    s = stats.score_summary
    accepted_share = 1 - stats.answer_null_share["accepted_answer_id"]
    lines = [
        f"- questions: {stats.questions:,}; distinct tags: {stats.distinct_tags:,}",
        f"- tags seen fewer than 5 / 10 / 100 times: {stats.tags_below[5]} / "
        f"{stats.tags_below[10]} / {stats.tags_below[100]}",
        f"- score: min {s['min']:.0f}, median {s['median']:.0f}, mean {s['mean']:.2f}, "
        f"p99 {s['p99']:.0f}, max {s['max']:.0f}, skewness {s['skewness']:.2f}, "
        f"negative {s['negative_share']:.1%}",
        f"- questions with an accepted answer: {accepted_share:.1%}",
    ]
    if stats.gmm:
        parts = ", ".join(f"{w:.0%} around {10 ** m:.2g} h" for w, m in zip(
            stats.gmm["weights"], stats.gmm["means_log10_hours"], strict=True))
        lines.append(f"- time to accepted answer, mixture components: {parts}")
    report = Report("eda", "Questions: exploratory report", figures={
        "questions": stats.questions, "distinct_tags": stats.distinct_tags,
        "score_max": s["max"], "score_skewness": round(s["skewness"], 3),
        "accepted_answer_share": round(accepted_share, 4)})
    report.text("\n".join(lines))
    for name, path in render_eda(stats, out_dir).items():
        report.heading(name.replace("_", " ").capitalize())
        report.plot(name, path)
    report.heading("Most used tags")
    top = report.table("top_tags", Table(["tag", "questions"]))
    for tag, count in stats.tag_counts:
        top.add(tag, count)
    if stats.gmm:
        mixture = report.table("time_to_accept_mixture", Table(
            ["component", "weight", "centre (hours)", "log10 spread"]))
        for i, (w, m, sd) in enumerate(zip(stats.gmm["weights"], stats.gmm["means_log10_hours"],
                                           stats.gmm["stds_log10_hours"], strict=True)):
            mixture.add(str(i + 1), w, 10 ** m, sd)
    return report
