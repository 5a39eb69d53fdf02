"""eda_report: the seed's exploration of the questions table, as plots."""


import dagster as dg

from so_assets.defs.ingestion import questions
from so_assets.defs.resources import StorageResource
from so_assets.evaluation.eda import compute_eda, eda_markdown, render_eda
from so_assets.evaluation.plots import inline_markdown_image


@dg.asset(deps=[questions], pool="duckdb", group_name="ingestion", kinds={"duckdb", "matplotlib"})
def eda_report(context: dg.AssetExecutionContext, storage: StorageResource
               ) -> dg.MaterializeResult:
    """Tag frequencies, tags per question, score distribution, answer-metric sparsity and the
    log time to the accepted answer with a Gaussian mixture; saved under data/reports/eda/."""
    with storage.question_store().connect(read_only=True) as con:
        stats = compute_eda(con)
    out_dir = storage.reports_dir / "eda"
    plots = render_eda(stats, out_dir)
    report = out_dir / "eda_report.md"
    report.write_text(eda_markdown(stats, {n: f"![{n}]({p.name})" for n, p in plots.items()}))
    context.log.info("EDA report written to %s", report)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.md(eda_markdown(
            stats, {n: inline_markdown_image(p, n) for n, p in plots.items()})),
        "path": dg.MetadataValue.path(str(report)),
        "questions": stats.questions,
        "distinct_tags": stats.distinct_tags,
        "score_max": stats.score_summary["max"],
        "score_skewness": round(stats.score_summary["skewness"], 3),
        "accepted_answer_share": round(1 - stats.answer_null_share["accepted_answer_id"], 4),
        "time_to_accept_mixture": dg.MetadataValue.json(stats.gmm),
    })
