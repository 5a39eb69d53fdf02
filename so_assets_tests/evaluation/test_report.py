"""The report object: one build, rendered as a file, as inline metadata and as a summary."""

from __future__ import annotations

import matplotlib

from so_assets.evaluation.plots import new_figure, save_png
from so_assets.evaluation.report import Report, Table, escape, inline_image


def test_user_text_is_escaped_in_every_rendering(tmp_path):
    hostile = "<script>alert(1)</script>|x|../../etc"
    assert "<script>" not in escape(hostile) and "\\|x\\|" in escape(hostile)
    report = Report("r", f"About {hostile}")
    table = report.table("tags", Table(["tag", "count"]), summary=True)
    table.add(hostile, 3)
    markdown = report.markdown()
    assert "<script>" not in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| ") and "alert" in line)
    assert row.count(" | ") == 1  # the pipes inside the tag do not open new cells
    assert "alert" in report.summary_text() and "<script>" not in report.summary_text()


def test_plots_are_files_beside_the_report_or_inline(tmp_path):
    matplotlib.use("Agg")
    fig, ax = new_figure()
    ax.plot([0, 1], [1, 0])
    report = Report("r", "Title", figures={"best": 0.5})
    report.text("Some **text**.")
    report.plot("curve", save_png(fig, tmp_path / "curve.png"))
    path = report.write(tmp_path / "r_report.md")
    assert "![curve](curve.png)" in path.read_text()
    inline = report.markdown(inline_image)
    assert "data:image/png;base64," in inline and "(curve.png)" not in inline
    assert report.figures == {"best": 0.5}


def test_tables_format_numbers_and_check_their_width():
    table = Table(["model", "f1", "n"], digits=2)
    table.add("mlp", 0.12345, 1234)
    table.add("nan", float("nan"), 0)
    assert table.markdown().splitlines()[2] == "| mlp | 0.12 | 1,234 |"
    assert "| nan | n/a | 0 |" in table.markdown()
    assert table.records()[0] == {"model": "mlp", "f1": 0.12345, "n": 1234}
    try:
        table.add("too", "few")
    except ValueError as exc:
        assert "2 values for 3 columns" in str(exc)
    else:
        raise AssertionError("a short row was accepted")
