"""The tag evaluation report: every model on the same test split, as tables and plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from so_assets.evaluation.plots import new_figure, new_figure_row, save_png
from so_assets.evaluation.report import Report, Table, add_parameters, add_reference_numbers
from so_assets.evaluation.tag_metrics import per_label_table

# Published by the reference project (100 clusters of StackOverflow tags, 100,000 questions,
# its own encoder): other data, other encoder; shown for orientation only.
REFERENCE_RESULTS = (
    ("XGBoost, body embeddings, multiclass (599 min)", "weighted F1 0.688"),
    ("MLP, BCE", "weighted F1 0.679"),
    ("DSF, multi-head self-attention, ASL", "weighted F1 0.711"),
    ("DSF, cross-attention, ASL, mixup, OneCycleLR, tuned threshold",
     "weighted F1 0.7196, micro F1 0.7253"),
    ("sequence-aware DSF (32 body tokens), focal loss", "micro F1 0.644"),
    ("TF-IDF linear (other seed, 16 to 104 tags)", "micro F1 0.76 to 0.83"),
)
SUMMARY_COLUMNS = ("micro_f1", "macro_f1", "weighted_f1", "samples_f1", "micro_precision",
                   "micro_recall", "hamming_loss", "P@1", "P@3", "P@5", "R@5", "nDCG@5",
                   "recall_head", "recall_torso", "recall_tail", "labels_ever_predicted")
TAG_COLUMNS = ("micro_f1", "macro_f1", "weighted_f1", "micro_precision", "micro_recall",
               "hamming_loss", "P@1", "P@5", "R@5", "recall_head", "recall_torso",
               "recall_tail")


@dataclass
class ModelResult:
    """One model's figures on the test split (its scores and decisions, for the plots)."""

    name: str
    metrics: dict[str, float]
    scores: np.ndarray
    predicted: np.ndarray
    threshold_rule: str
    train_seconds: float
    peak_rss_mb: float
    questions_per_second: float
    tag_metrics: dict[str, float] = field(default_factory=dict)
    all_tag_metrics: dict[str, float] = field(default_factory=dict)
    """Over every tag: kept tags, orphans predicted through their kept tag, the rest missed."""
    threshold_check: dict[str, float] = field(default_factory=dict)
    """clusters_/tags_ validation, test and test_global micro-F1 (see the thresholds table)."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """The parameters it was trained with, dotted names for nested ones."""


ALL_TAG_COLUMNS = ["micro_f1", "micro_precision", "micro_recall", "P@1", "P@5", "R@5"]


def _all_tags_table(report: Report, tagged: list[ModelResult]) -> None:
    rows = [r for r in tagged if r.all_tag_metrics]
    if not rows:
        return
    report.heading("Every tag (orphans included)")
    table = report.table("all_tags", Table(["model", *ALL_TAG_COLUMNS, "orphans predicted",
                                            "orphan threshold"]), summary=True)
    for r in sorted(rows, key=lambda r: -r.all_tag_metrics["micro_f1"]):
        m = r.all_tag_metrics
        table.add(r.name, *[m.get(c, float("nan")) for c in ALL_TAG_COLUMNS],
                  int(m["orphans_predicted"]), m["orphan_threshold"])
    report.text("Every tag the test questions carry. An orphan (a tag on too few training "
                "questions to be kept) is predicted through the kept tag it was imputed to: "
                "its score is that tag's score times the question's cosine to the orphan's "
                "vector, against one threshold per model tuned on validation (inf: no "
                "threshold helped, no orphan predicted). Unmapped orphans and tags on no "
                "training question cannot be predicted and count as missed.")


def confusion_matrix(truth: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Rows: majority-vote true cluster; columns: the model's top cluster."""
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (truth.argmax(1), scores.argmax(1)), 1)
    return matrix


def tag_report(results: list[ModelResult], test_clusters: np.ndarray, n_train: int,
               cluster_names: list[str], out_dir: Path, multiclass: str = "xgboost") -> Report:
    """Every model's figures on the test split as tables, with the plots written to
    ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ranked = sorted(results, key=lambda r: -r.metrics["micro_f1"])
    best = next(r for r in ranked if r.name != "most_frequent_baseline")
    report = Report("tag_evaluation", "Tag prediction: evaluation on the test split", figures={
        "best_model": best.name, "best_micro_f1": best.metrics["micro_f1"],
        "test_questions": len(test_clusters)})
    report.text(f"Every model on the same {len(test_clusters):,} test questions (trained on "
                f"{n_train:,}); {len(cluster_names)} label clusters. Best on micro-F1: "
                f"**{best.name}**.")
    clusters = report.table("clusters", Table(
        ["model", *SUMMARY_COLUMNS, "threshold rule", "train s", "predict q/s", "peak RSS MB"]),
        summary=True)
    for r in ranked:
        clusters.add(r.name, *[r.metrics.get(c, float("nan")) for c in SUMMARY_COLUMNS],
                     r.threshold_rule, f"{r.train_seconds:.1f}", f"{r.questions_per_second:,.0f}",
                     f"{r.peak_rss_mb:,.0f}")
    tagged = [r for r in ranked if r.tag_metrics]
    if tagged:
        report.heading("Kept-tag level (every model that predicts tags)")
        tags = report.table("tags", Table(["model", *TAG_COLUMNS, "predict q/s"]), summary=True)
        for r in sorted(tagged, key=lambda r: -r.tag_metrics["micro_f1"]):
            tags.add(r.name, *[r.tag_metrics.get(c, float("nan")) for c in TAG_COLUMNS],
                     f"{r.questions_per_second:,.0f}")
        report.text("recall_tail: the share of test occurrences of **tail** tags that the "
                    "model predicts, where the tail is the rarest kept tags that together hold "
                    "the last third of the training split's tag occurrences (head and torso: "
                    "the first and second thirds, most used first).")
        _all_tags_table(report, tagged)
    _thresholds_table(report, ranked)
    report.heading("Plots")
    report.plot("f1_by_model", _plot_f1(ranked, out_dir / "f1_by_model.png"))
    report.plot("precision_at_k", _plot_ranking(ranked, out_dir / "precision_at_k.png"))
    report.plot("recall_by_frequency",
                _plot_buckets(ranked, out_dir / "recall_by_frequency.png"))
    report.plot("per_label_f1", _plot_per_label(best, test_clusters, cluster_names,
                                                out_dir / "per_label_f1.png"))
    confusion_model = next((r for r in results if r.name == multiclass), None)
    if confusion_model is not None:
        report.plot("confusion_matrix", _plot_confusion(
            confusion_matrix(test_clusters, confusion_model.scores, len(cluster_names)),
            cluster_names, multiclass, out_dir / "confusion_matrix.png"))
    report.heading(f"Per-label precision, recall and F1 ({best.name})")
    per_label = report.table("per_label", Table(["cluster", "support", "precision", "recall",
                                                 "F1"]))
    for row in per_label_table(test_clusters, best.predicted, cluster_names):
        per_label.add(row["label"], row["support"], row["precision"], row["recall"], row["f1"])
    add_reference_numbers(report, "Other data (100,000 StackOverflow questions, 100 clusters)"
                                  " and another encoder", REFERENCE_RESULTS)
    report.text("Frequency buckets: clusters ranked by training frequency; head, torso and "
                "tail each hold about a third of the training label occurrences.")
    add_parameters(report, [(r.name, r.parameters) for r in ranked])
    return report


def _thresholds_table(report: Report, ranked: list[ModelResult]) -> None:
    """Validation against test for each model's threshold rule, and test at the single best
    validation threshold: a rule that overfits validation shows as a negative gap."""
    checked = [r for r in ranked if r.threshold_check]
    if not checked:
        return
    report.heading("Thresholds: validation and test side by side")
    table = report.table("thresholds", Table(
        ["model", "clusters val", "clusters test", "clusters test @global", "gap",
         "tags val", "tags test", "tags test @global", "tags gap"]))
    for r in checked:
        c = r.threshold_check
        row = []
        for level in ("clusters", "tags"):
            test, best = c.get(f"{level}_test"), c.get(f"{level}_test_global")
            row += ([c[f"{level}_validation"], test, best, test - best] if test is not None
                    else ["", "", "", ""])
        table.add(r.name, *row)
    report.text("gap: test micro-F1 of the model's own rule minus test micro-F1 at its best "
                "single validation threshold. Per-label thresholds are shrunk toward the "
                "global one by support and kept only when they win on validation.")


def _plot_f1(ranked: list[ModelResult], path: Path) -> Path:
    fig, ax = new_figure(9, 4.5)
    names = [r.name for r in ranked]
    x = np.arange(len(names))
    for i, metric in enumerate(("micro_f1", "macro_f1", "weighted_f1", "samples_f1")):
        ax.bar(x + (i - 1.5) * 0.2, [r.metrics[metric] for r in ranked], 0.2, label=metric)
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("F1 on the test split")
    ax.legend(fontsize=8, ncol=4)
    return save_png(fig, path)


def _plot_ranking(ranked: list[ModelResult], path: Path) -> Path:
    fig, ax = new_figure()
    for r in ranked:
        ax.plot([1, 3, 5], [r.metrics.get(f"P@{k}", np.nan) for k in (1, 3, 5)], marker="o",
                label=r.name)
    ax.set_xticks([1, 3, 5])
    ax.set_xlabel("k")
    ax.set_ylabel("precision@k")
    ax.set_title("Ranking quality")
    ax.legend(fontsize=7)
    return save_png(fig, path)


def _plot_buckets(ranked: list[ModelResult], path: Path) -> Path:
    fig, ax = new_figure(9, 4)
    x = np.arange(len(ranked))
    for i, bucket in enumerate(("head", "torso", "tail")):
        ax.bar(x + (i - 1) * 0.27, [r.metrics.get(f"recall_{bucket}", 0) for r in ranked],
               0.27, label=bucket)
    ax.set_xticks(x, [r.name for r in ranked], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("recall")
    ax.set_title("Recall by label frequency")
    ax.legend(fontsize=8)
    return save_png(fig, path)


def _plot_per_label(result: ModelResult, test_clusters: np.ndarray, names: list[str],
                    path: Path) -> Path:
    rows = sorted(per_label_table(test_clusters, result.predicted, names),
                  key=lambda r: -r["support"])[:40]
    fig, ax = new_figure(9, 5)
    ax.bar(range(len(rows)), [r["f1"] for r in rows], color="#3b75af")
    ax.set_xticks(range(len(rows)), [r["label"] for r in rows], rotation=60, ha="right",
                  fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(f"{result.name}: F1 of the {len(rows)} most frequent clusters")
    return save_png(fig, path)


def _plot_confusion(matrix: np.ndarray, names: list[str], model: str, path: Path) -> Path:
    fig, (ax,) = new_figure_row(1, 8, 7)
    normalised = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    if len(names) <= 30:
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted top cluster")
    ax.set_ylabel("majority-vote true cluster")
    ax.set_title(f"{model}: confusion matrix (row-normalised)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    return save_png(fig, path)

