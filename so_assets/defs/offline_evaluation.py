"""`so-assets evaluate`: the whole chain on one file, in its own folder, outside the schedule."""

import json
import logging
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from so_assets.defs.automation import RANGE_END_TAG, RANGE_START_TAG
from so_assets.defs.partitions import FIRST_DAY
from so_assets.defs.resources import EncoderResource, QuestionSourceResource, StorageResource
from so_assets.stackexchange.sources import SourceSpec, summarize

log = logging.getLogger(__name__)
PLAIN_CSV_DAY = FIRST_DAY  # plain CSVs have no dates: they are filed under the first partition


@dataclass(frozen=True)
class EvaluationSettings:
    min_tag_count: int
    n_clusters: int
    first_day: str
    last_day: str
    questions: int
    tags: int
    kept_tags: int


def plan(spec: SourceSpec, min_tag_count: int | None, n_clusters: int | None
         ) -> EvaluationSettings:
    """Size the run from the data: by default a tag is kept when 0.1 % of questions use it
    (the reference's 100 in 100,000; at least 5), and there is one label cluster per four kept
    tags (at most 100)."""
    summary = summarize(spec)
    threshold = min_tag_count or max(5, round(summary.questions / 1000))
    kept = sum(1 for n in summary.tag_counts.values() if n >= threshold)
    clusters = n_clusters or max(2, min(100, kept // 4))
    return EvaluationSettings(threshold, clusters, summary.first_day.isoformat(),
                              summary.last_day.isoformat(), summary.questions,
                              len(summary.tag_counts), kept)


def evaluate_dataset(dataset: Path, source_kind: str, out_dir: Path, *, site: str = "dataset",
                     tags_path: Path | None = None, min_tag_count: int | None = None,
                     n_clusters: int | None = None) -> dict:
    """Import, embed, build the tree and labels, train every model and write the report."""
    from so_assets.definitions import defs as project_defs

    started = time.monotonic()
    spec_args = {"kind": source_kind, "site": site,
                 "path": str(dataset) if source_kind != "sample" or dataset else None,
                 "tags_path": str(tags_path) if tags_path else None,
                 "plain_csv_date": PLAIN_CSV_DAY if source_kind == "plain_csv" else None}
    settings = plan(SourceSpec(**spec_args), min_tag_count, n_clusters)
    log.info("evaluating %s: %s", dataset, settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    resources = {"storage": StorageResource(data_dir=str(out_dir)),
                 "source": QuestionSourceResource(**spec_args),
                 "encoder": EncoderResource()}
    definitions = dg.Definitions(assets=project_defs.assets,
                                 asset_checks=project_defs.asset_checks,
                                 jobs=project_defs.jobs, resources=resources)
    job = definitions.resolve_job_def("stackoverflow_pipeline")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=True,
            tags={RANGE_START_TAG: settings.first_day, RANGE_END_TAG: settings.last_day},
            run_config={"ops": {"tag_tree": {"config": {
                "min_tag_count": settings.min_tag_count, "n_clusters": settings.n_clusters}}}})
    summary = {"dataset": str(dataset), "format": source_kind, **settings.__dict__,
               "success": result.success, "wall_seconds": time.monotonic() - started,
               "checks": {f"{c.asset_key.to_user_string()}:{c.check_name}": c.passed
                          for c in result.get_asset_check_evaluations()},
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "report": str(out_dir / "reports" / "tag_evaluation" /
                             "tag_evaluation_report.md")}
    (out_dir / "evaluation_summary.json").write_text(json.dumps(summary, indent=1))
    return summary
