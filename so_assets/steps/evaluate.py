"""``so-assets evaluate``'s plain parts: how a file is sized for the chain, which models it
trains, and what the run did (the run itself materializes the code location's assets in
process: :mod:`so_assets.defs.evaluate`)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path

from so_assets.models.registry import SCORE_MODELS, TAG_MODELS, ModelSpec, is_baseline
from so_assets.stackexchange.sources import DatasetSummary
from so_assets.steps import models


@dataclass(frozen=True)
class EvaluationPlan:
    """How a file is sized for the chain: the kept-tag threshold and the number of clusters."""

    min_tag_count: int
    n_clusters: int
    first_day: str
    last_day: str
    questions: int
    tags: int
    kept_tags: int
    adjusted: tuple[str, ...] = ()
    """What was changed from what was asked, and why (printed and in the summary)."""


def plan(summary: DatasetSummary, min_tag_count: int | None = None,
         n_clusters: int | None = None) -> EvaluationPlan:
    """By default a tag is kept when 0.1 % of training questions use it (the reference's 100
    in 100,000; at least 5), and there is one label cluster per four kept tags (2 to 100).
    The kept tags are estimated here from the whole file (a tag's training questions as its
    share of the file); the tree counts training questions."""
    train_share = models.SplitParams().train_percent / 100
    threshold = min_tag_count or max(5, round(summary.questions * train_share / 1000))
    in_training = sorted((int(n * train_share) for n in summary.tag_counts.values()),
                         reverse=True)
    kept = sum(1 for n in in_training if n >= threshold)
    if kept < 2:
        if len(in_training) < 2:
            raise ValueError(f"the file's {summary.questions} questions use "
                             f"{len(in_training)} distinct tag(s): a tag predictor needs at "
                             "least two tags to choose between")
        reachable = in_training[1]  # what the second most used tag has in training
        if reachable < 1:
            raise ValueError(f"the file's {summary.questions} questions are too few: its "
                             "second most used tag would be on no training question (80 % of "
                             "the file); a tag predictor needs more questions per tag")
        raise ValueError(f"{kept} tag(s) would be on {threshold} or more training questions; "
                         f"a tag predictor needs at least two: pass --min-tag-count "
                         f"{reachable} or lower")
    adjusted: list[str] = []
    clusters = n_clusters or max(2, min(100, kept // 4))
    if clusters > kept:
        adjusted.append(f"--clusters {clusters} is more than the {kept} kept tags: {kept} "
                        "clusters are made")
        clusters = kept
    return EvaluationPlan(threshold, clusters, summary.first_day.isoformat(),
                          summary.last_day.isoformat(), summary.questions,
                          len(summary.tag_counts), kept, tuple(adjusted))


@dataclass
class EvaluationRun:
    """What ``evaluate`` did: its plan, every step's and check's outcome, the reports, cost."""

    dataset: str
    format: str
    plan: EvaluationPlan
    checks: dict[str, bool] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Asset (or ``asset:check``) -> the error its step failed with."""
    not_built: list[str] = field(default_factory=list)
    """Assets neither built nor failed (skipped: what they read failed or is absent)."""
    summaries: dict[str, str] = field(default_factory=dict)
    """Report name -> the summary a terminal shows."""
    report_paths: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    models_mb: float = 0.0
    """What the trained models take on disk (every folder and shared part)."""
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Step key -> (start, end), Unix times: where the wall time went."""

    @property
    def success(self) -> bool:
        return not self.failed and all(self.checks.values())

    def summary(self) -> dict:
        from so_assets.models.publication.train import process_peak_rss_mb

        return {"dataset": self.dataset, "format": self.format, **asdict(self.plan),
                "success": self.success, "checks": self.checks, "failed": self.failed,
                "not_built": self.not_built, "wall_seconds": self.wall_seconds,
                "process_peak_rss_mb": process_peak_rss_mb(), "models_mb": self.models_mb,
                "reports": self.report_paths, "notes": self.notes,
                "steps": {key: {"start": start, "seconds": round(end - start, 3)}
                          for key, (start, end) in sorted(self.steps.items(),
                                                          key=lambda kv: kv[1][0])}}


def chosen_models(names: Collection[str] | None
                  ) -> tuple[tuple[ModelSpec, ...], tuple[ModelSpec, ...]]:
    """The tag and score models to train: every registered one, or those ``names`` gives
    (the score task's mean baseline always, as the score report compares against it); an
    unknown name is an error listing the registered ones."""
    if not names:
        return TAG_MODELS, SCORE_MODELS
    known = {spec.name for spec in TAG_MODELS + SCORE_MODELS}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"no model named {', '.join(unknown)}; registered: {sorted(known)}")
    return (tuple(s for s in TAG_MODELS if s.name in names),
            tuple(s for s in SCORE_MODELS if s.name in names or is_baseline(s)))


def models_on_disk_mb(models_dir: Path) -> float:
    """What the trained models take on disk (every folder and shared part, links not
    followed)."""
    return sum(f.stat().st_size for f in models_dir.rglob("*")
               if f.is_file() and not f.is_symlink()) / 2**20 if models_dir.is_dir() else 0.0


OUTPUT_MARKERS = ("evaluation_summary.json", "so_assets.duckdb")
"""What every ``evaluate`` output folder holds (and what ``--force`` looks for before it
deletes anything)."""


def prepare_output(out_dir: Path, force: bool = False) -> None:
    """An empty folder for one run: a new or empty one; a used one only with ``force``, and
    only when it is an earlier ``evaluate`` output (anything else is never cleared)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file, not a folder")
    if not out_dir.exists() or not any(out_dir.iterdir()):
        out_dir.mkdir(parents=True, exist_ok=True)
        return
    earlier = out_dir / "evaluation_summary.json"
    what = (f"an earlier evaluate of {json.loads(earlier.read_text()).get('dataset')!r}"
            if earlier.exists() else "files")
    if not force:
        raise ValueError(f"--out {out_dir} already holds {what}: choose a new folder, or pass "
                         "--force to clear it (a run never mixes into another's data)")
    if not any((out_dir / marker).exists() for marker in OUTPUT_MARKERS):
        raise ValueError(f"--out {out_dir} holds files but is no evaluate output (no "
                         f"{' or '.join(OUTPUT_MARKERS)}): not clearing it, even with --force")
    for entry in out_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def write_summary(run: EvaluationRun, out_dir: Path) -> Path:
    """``evaluation_summary.json`` in ``out_dir``."""
    path = out_dir / "evaluation_summary.json"
    path.write_text(json.dumps(run.summary(), indent=1))
    return path
