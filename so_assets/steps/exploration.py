"""eda_report: the seed's exploration of the questions table, as plots."""

from __future__ import annotations

from so_assets.steps.results import ReportResult, write_report
from so_assets.storage.question_stats import question_aggregates
from so_assets.storage.stores import Stores


def eda_report(stores: Stores) -> ReportResult:
    """Tag frequencies, tags per question, score distribution, answer-metric sparsity and the
    log time to the accepted answer with a Gaussian mixture; under ``reports/eda/``."""
    from so_assets.evaluation.eda import build_eda_report, compute_eda

    stats = compute_eda(question_aggregates(stores.questions))
    return write_report(build_eda_report(stats, stores.reports_dir / "eda"), stores.reports_dir)
