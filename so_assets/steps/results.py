"""What steps return besides their own figures: a written report, a check's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from so_assets.evaluation.report import Report


@dataclass(frozen=True)
class ReportResult:
    """A report and the markdown file it was written to."""

    report: Report
    path: Path


@dataclass(frozen=True)
class CheckOutcome:
    """Whether a data-quality rule holds, and what was found."""

    passed: bool
    details: dict[str, Any] = field(default_factory=dict)


def write_report(report: Report, reports_dir: Path) -> ReportResult:
    """Write ``report`` as ``<reports>/<name>/<name>_report.md`` (its plots are beside it)."""
    path = report.write(reports_dir / report.name / f"{report.name}_report.md")
    return ReportResult(report, path)
