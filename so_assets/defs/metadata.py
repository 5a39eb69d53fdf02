"""Step results as Dagster metadata: one conversion for every asset and check."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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
        return table_value(value)
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
    """Every field of a step's result dataclass, as metadata (empty fields left out, and
    per-partition fields, which :func:`add_partition_metadata` spreads over partitions)."""
    if isinstance(result, ReportResult):
        return report_metadata(result.report, result.path)
    values = {f.name: metadata_value(getattr(result, f.name))
              for f in dataclasses.fields(result) if not f.metadata.get("per_partition")}
    return {k: v for k, v in values.items() if v is not None}


def report_metadata(report: Report, path: Path) -> dict[str, Any]:
    """The report with its plots inline, its file, its headline figures as numbers (they
    chart in the Plots tab), each plot on its own and each named table as a Dagster table."""
    summary = {"summary": dg.MetadataValue.text(report.summary_text())} if report.summary else {}
    return {
        "report": dg.MetadataValue.md(report.markdown(inline_image)),
        "path": dg.MetadataValue.path(str(path.absolute())),
        **summary,
        **report.figures,
        **{f"plot: {plot.name}": dg.MetadataValue.md(inline_image(plot))
           for plot in report.plots},
        **{f"table: {name}": table_value(table) for name, table in report.tables.items()},
    }


def table_value(table: Table) -> dg.TableMetadataValue:
    """A report table as Dagster's table (typed columns, floats rounded as in the report)."""
    def cell(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, table.digits)
        if value is None or isinstance(value, bool | int | str):
            return value
        return str(value)

    rows = [[cell(v) for v in row] for row in table.rows]
    kinds = []
    for i in range(len(table.columns)):
        seen = {type(row[i]) for row in rows if row[i] is not None}
        kinds.append("float" if seen and seen <= {float, int} and float in seen else
                     "int" if seen == {int} else "bool" if seen == {bool} else "string")
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind)
                                     for name, kind in zip(table.columns, kinds, strict=True)])
    return dg.MetadataValue.table(
        records=[dg.TableRecord(dict(zip(table.columns, row, strict=True))) for row in rows],
        schema=schema)


def add_partition_metadata(context: dg.AssetExecutionContext,
                           per_day: Mapping[str, Mapping[date, Any]],
                           asset_key: str | None = None) -> None:
    """Give each materialized partition its own figures: ``per_day`` maps a metadata name
    (e.g. ``dagster/row_count``) to that figure of each day."""
    for key in context.partition_keys:
        day = date.fromisoformat(key)
        figures = {name: values[day] for name, values in per_day.items() if day in values}
        if figures:
            context.add_asset_metadata(figures, asset_key=asset_key, partition_key=key)


def check_result(outcome: CheckOutcome, **kwargs: Any) -> dg.AssetCheckResult:
    """A check's outcome as Dagster's check result."""
    return dg.AssetCheckResult(passed=outcome.passed, metadata={
        k: dg.MetadataValue.json(v) if isinstance(v, list | dict) else v
        for k, v in outcome.details.items()}, **kwargs)
