"""The production models: which tag model and which score model serve, promoted by a rule.

After each retrain every published model of a task is a candidate (for tags, those that score
kept tags: a suggestion service suggests tags). Eligible are those trained on the current label
space that pass their check (their validation figure beats their task's naive baseline). The
best eligible candidate on validation (kept-tag micro-F1; RMSE on the log scale for scores)
becomes the production model when there is none yet, when the champion is
no longer eligible (an older tag tree, a missing folder), or when it beats the champion by more
than :data:`PROMOTION_MARGIN` on the *same* (current) validation split, the champion being
scored again there. Otherwise the champion stays. The record (``_production.json`` in the models
folder, written atomically) names the exact version folder, which is pinned so that publishing
newer versions never deletes it; every decision is kept in the history with its reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from so_assets.models.publication.artifacts import PINNED, version_path
from so_assets.storage.durability import fsync_dir
from so_assets.storage.leftovers import writer_suffix

PROMOTION_MARGIN = {"tag": 0.005, "score": 0.005}
"""How much better a challenger must be on validation to replace the champion: half a point of
micro-F1 (tags), 0.005 of RMSE on the log scale (scores). Smaller gains are noise between
retrainings and would swap the serving model (and every prediction) for nothing."""

RECORD = "_production.json"


@dataclass(frozen=True)
class Candidate:
    """A published model version and its figures on the current validation split."""

    task: str  # "tag" or "score"
    name: str  # the registry name
    asset: str
    version: str  # the version folder's name
    validation: float  # the ranking figure (kept-tag micro-F1 up, RMSE down)
    baseline: float  # its task's naive baseline's figure, for the record
    higher_is_better: bool
    train_cutoff: str  # the newest training question's creation time (ISO)
    current_labels: bool  # trained on the current label space
    beats_baseline: bool  # its check: its selection figure beats the baseline's

    @property
    def eligible(self) -> bool:
        return self.current_labels and self.beats_baseline

    def better_than(self, other: Candidate, margin: float) -> bool:
        gain = self.validation - other.validation
        return gain > margin if self.higher_is_better else -gain > margin


@dataclass(frozen=True)
class Production:
    """What serves a task, since when and why."""

    task: str
    name: str
    asset: str
    version: str
    validation: float
    baseline: float
    train_cutoff: str
    promoted_at: str
    reason: str

    def to_json(self) -> dict:
        return asdict(self)


def choose(task: str, candidates: Sequence[Candidate], champion: Candidate | None
           ) -> tuple[Candidate | None, str]:
    """The model that should serve ``task`` and the reason, by the module's rule; ``champion``
    is the serving version scored on the current validation split (None: nothing serves)."""
    margin = PROMOTION_MARGIN[task]
    eligible = [c for c in candidates if c.eligible]
    if not eligible:
        if champion is not None and champion.beats_baseline:
            return champion, "kept: no retrained model beats its baseline on validation"
        return None, "no model beats its baseline on validation: nothing may serve"
    best = max(eligible, key=lambda c: c.validation if c.higher_is_better else -c.validation)
    figure = f"{best.validation:.4f} (baseline {best.baseline:.4f})"
    if champion is None:
        return best, f"first production model: the best of {len(eligible)} eligible, {figure}"
    if not champion.eligible:
        why = ("trained on an older tag tree" if not champion.current_labels
               else "no longer beats its baseline")
        return best, (f"the champion {champion.name} {champion.version} is {why}: replaced by "
                      f"the best of {len(eligible)} eligible, {figure}")
    if best.version == champion.version:
        return champion, f"kept: the champion is still the best ({figure})"
    if best.better_than(champion, margin):
        return best, (f"promoted: {figure} against the champion {champion.name}'s "
                      f"{champion.validation:.4f}, better by more than {margin}")
    return champion, (f"kept: the best challenger {best.name} ({best.validation:.4f}) is not "
                      f"better than the champion's {champion.validation:.4f} by more than "
                      f"{margin}")


def read_production(models_dir: Path) -> dict[str, Production]:
    """The serving model of each task (empty before the first promotion)."""
    path = models_dir / RECORD
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    return {task: Production(**entry) for task, entry in saved.get("current", {}).items()}


def record_production(models_dir: Path, decisions: Sequence[Production]) -> dict[str, Production]:
    """Write the serving models (atomically), pin their folders, unpin those that left, and
    append each decision to the history; returns what serves now."""
    path = models_dir / RECORD
    saved = json.loads(path.read_text()) if path.exists() else {"current": {}, "history": []}
    before = {task: Production(**entry) for task, entry in saved["current"].items()}
    for decision in decisions:
        saved["current"][decision.task] = decision.to_json()
        saved["history"].append(decision.to_json())
    now = {task: Production(**entry) for task, entry in saved["current"].items()}
    for production in now.values():
        (version_path(models_dir, production.asset, production.version) / PINNED).write_text(
            production.promoted_at)
    serving = {(p.asset, p.version) for p in now.values()}
    for old in before.values():
        if (old.asset, old.version) not in serving:
            (version_path(models_dir, old.asset, old.version) / PINNED).unlink(missing_ok=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{writer_suffix()}.tmp")
    tmp.write_text(json.dumps(saved, indent=1))
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(models_dir)
    return now


def production_history(models_dir: Path) -> list[Production]:
    """Every decision, oldest first."""
    path = models_dir / RECORD
    if not path.exists():
        return []
    return [Production(**entry) for entry in json.loads(path.read_text())["history"]]


def decision(candidate: Candidate, reason: str, promoted_at: str | None = None) -> Production:
    """The record of ``candidate`` serving (``promoted_at``: keep an earlier promotion time)."""
    return Production(candidate.task, candidate.name, candidate.asset, candidate.version,
                      candidate.validation, candidate.baseline, candidate.train_cutoff,
                      promoted_at or datetime.now(UTC).isoformat(timespec="seconds"), reason)
