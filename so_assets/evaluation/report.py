"""One report object: text, tables, plots and headline figures, built once.

The markdown file under ``data/reports/``, an asset's metadata and the command line's summary
all come from the same :class:`Report`; nobody parses rendered markdown. User text (tags,
titles) is escaped wherever it lands in markdown or HTML.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def escape(text: Any) -> str:
    """``text`` safe inside markdown and HTML: markup characters are escaped, newlines
    become spaces (a table cell stays one cell)."""
    plain = html.escape(str(text), quote=False).replace("\n", " ").replace("\r", " ")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain)


def format_cell(value: Any, digits: int = 3) -> str:
    """A table cell: floats to ``digits`` decimals (NaN as "n/a"), text escaped."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(value)


@dataclass
class Table:
    """Columns and rows of plain values; rendered as markdown with every cell escaped."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    digits: int = 3

    def add(self, *values: Any) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"a row of {len(values)} values for {len(self.columns)} columns")
        self.rows.append(list(values))

    def markdown(self) -> str:
        lines = ["| " + " | ".join(escape(c) for c in self.columns) + " |",
                 "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(format_cell(v, self.digits) for v in row) + " |"
                  for row in self.rows]
        return "\n".join(lines)

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts, for metadata and JSON."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Plot:
    name: str
    path: Path


def inline_image(plot: Plot) -> str:
    """Markdown that embeds the PNG itself (how Dagster's UI shows plots in metadata)."""
    data = base64.b64encode(plot.path.read_bytes()).decode("ascii")
    return f"![{escape(plot.name)}](data:image/png;base64,{data})"


@dataclass(frozen=True)
class Text:
    """Markdown written by so_assets itself; user text inside it must go through escape()."""

    markdown: str


Block = Text | Table | Plot


@dataclass
class Report:
    """A report's blocks in order, its named tables and its headline figures."""

    name: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    figures: dict[str, float | int | str] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    """Names of the tables the command line prints at the end of a run."""

    def text(self, markdown: str) -> Report:
        self.blocks.append(Text(markdown))
        return self

    def heading(self, title: str) -> Report:
        return self.text(f"## {escape(title)}")

    def table(self, name: str, table: Table, *, summary: bool = False) -> Table:
        """Add a named table (shown in metadata; ``summary``: printed by the CLI too)."""
        self.tables[name] = table
        self.blocks.append(table)
        if summary:
            self.summary.append(name)
        return table

    def plot(self, name: str, path: Path) -> Report:
        self.blocks.append(Plot(name, path))
        return self

    @property
    def plots(self) -> list[Plot]:
        return [b for b in self.blocks if isinstance(b, Plot)]

    def markdown(self, image: Callable[[Plot], str] | None = None) -> str:
        """The whole report; ``image`` renders a plot (default: a link to its file name)."""
        image = image or (lambda p: f"![{escape(p.name)}]({p.path.name})")
        parts = [f"# {escape(self.title)}"]
        for block in self.blocks:
            if isinstance(block, Text):
                parts.append(block.markdown)
            elif isinstance(block, Table):
                parts.append(block.markdown())
            else:
                parts.append(image(block))
        return "\n\n".join(parts) + "\n"

    def write(self, path: Path) -> Path:
        """Write the markdown (plots linked by file name, beside it) to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown(), encoding="utf-8")
        return path

    def summary_text(self) -> str:
        """The title and the summary tables, for a terminal."""
        parts = [escape(self.title)]
        for name in self.summary:
            parts += ["", name, self.tables[name].markdown()]
        return "\n".join(parts)


def add_reference_numbers(report: Report, context: str,
                          results: Sequence[tuple[str, str]]) -> None:
    """The reference project's published figures, kept apart from ours: ``context`` says how
    its data and encoder differ."""
    report.heading("The reference project's published numbers (theirs, not ours)")
    report.text(f"{context}: for orientation, not comparison.")
    theirs = report.table("reference", Table(["their model", "their result"]))
    for model, value in results:
        theirs.add(model, value)


def add_parameters(report: Report, parameters: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Each model's parameters as it was trained (dotted names for nested ones)."""
    report.heading("Parameters of every model")
    table = report.table("parameters", Table(["model", "parameters"]))
    for name, values in parameters:
        table.add(name, ", ".join(f"{k}={v}" for k, v in values.items()) or "(none)")


def bullet_list(items: Sequence[str]) -> str:
    """Markdown bullets of already-escaped items."""
    return "\n".join(f"- {item}" for item in items)
