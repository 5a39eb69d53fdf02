"""Step results as Dagster metadata: one conversion for every asset and check."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from so_assets.evaluation.report import Plot, Report, Table, inline_image
from so_assets.steps.results import CheckOutcome, ReportResult


def metadata_value(value: Any) -> Any:
    """A Dagster metadata value for a step's figure (None when it has none)."""
    if isinstance(value, Path) and value.suffix == ".png":
        return dg.MetadataValue.md(inline_image(Plot(value.stem, value)))
    if isinstance(value, Path):
        return dg.MetadataValue.path(str(value.absolute()))
    if isinstance(value, Table):
        return dg.MetadataValue.md(value.markdown())
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return dg.MetadataValue.json({str(k): v for k, v in value.items()})
    if isinstance(value, list | tuple):
        return dg.MetadataValue.json(list(value))
    if isinstance(value, date):
        return value.isoformat()
    return None


def result_metadata(result: Any) -> dict[str, Any]:
    """Every field of a step's result dataclass, as metadata (empty fields left out)."""
    if isinstance(result, ReportResult):
        return report_metadata(result.report, result.path)
    values = {f.name: metadata_value(getattr(result, f.name))
              for f in dataclasses.fields(result)}
    return {k: v for k, v in values.items() if v is not None}


def report_metadata(report: Report, path: Path) -> dict[str, Any]:
    """The report with its plots inline, its file, its headline figures and its tables."""
    return {
        "report": dg.MetadataValue.md(report.markdown(inline_image)),
        "path": dg.MetadataValue.path(str(path.absolute())),
        **report.figures,
    }


def check_result(outcome: CheckOutcome, **kwargs: Any) -> dg.AssetCheckResult:
    """A check's outcome as Dagster's check result."""
    return dg.AssetCheckResult(passed=outcome.passed, metadata={
        k: dg.MetadataValue.json(v) if isinstance(v, list | dict) else v
        for k, v in outcome.details.items()}, **kwargs)
