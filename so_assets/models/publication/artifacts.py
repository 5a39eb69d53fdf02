"""Model folders published atomically: ``<models>/<name>/<version>/`` and a ``current`` link.

A model is built in a fresh version folder; only when it is complete (a ``COMPLETE`` marker,
written last) does the ``current`` symlink move to it (``os.replace`` of a link is atomic). A
run killed half-way leaves an unfinished folder that nothing points at and the previous model in
service; the next publish removes unfinished folders of dead writers and keeps only complete
versions as fallbacks, and shared parts no version names (:mod:`shared_parts`). Loading never
leaves the models folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from so_assets.models.publication.shared_parts import remove_unused
from so_assets.storage.durability import fsync_dir, fsync_tree
from so_assets.storage.leftovers import remove_if_abandoned, writer_suffix

CURRENT = "current"
COMPLETE = "COMPLETE"
PINNED = "PINNED"
"""A version that serves in production: never pruned, whatever is published after it."""
_VERSION_RE = re.compile(r"^v\d{8}T\d{6}\d*Z-[A-Za-z0-9~-]+$")


def new_version_dir(models_dir: Path, name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = models_dir / name / f"v{stamp}-{writer_suffix()}"
    path.mkdir(parents=True)
    return path


def publish(version_dir: Path, keep: int = 2) -> Path:
    """Flush ``version_dir`` to disk, mark it complete, point ``current`` at it, remove the
    unfinished folders of writers that died, and keep the ``keep`` newest complete versions."""
    fsync_tree(version_dir)
    (version_dir / COMPLETE).write_text(datetime.now(UTC).isoformat())
    fsync_tree(version_dir)
    model_dir = version_dir.parent
    link = model_dir / CURRENT
    tmp = model_dir / f".{CURRENT}.{writer_suffix()}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(version_dir.name)
    os.replace(tmp, link)
    fsync_dir(model_dir)
    versions = sorted(p for p in model_dir.iterdir() if p.is_dir() and not p.is_symlink()
                      and p.name.startswith("v"))
    for unfinished in (v for v in versions if not (v / COMPLETE).exists()):
        remove_if_abandoned(unfinished)
    complete = [v for v in versions if (v / COMPLETE).exists()]
    for old in complete[: max(0, len(complete) - keep)]:
        if old.resolve() != version_dir.resolve() and not (old / PINNED).exists():
            shutil.rmtree(old, ignore_errors=True)
    remove_unused(model_dir.parent)
    return link


def current_dir(models_dir: Path, name: str) -> Path:
    """The published version of a model; an error naming the model when there is none, or
    when its link leads out of ``models_dir``."""
    root = models_dir.resolve()
    link = models_dir / name / CURRENT
    if not link.exists():
        raise FileNotFoundError(f"no trained model {name!r} under {models_dir}: materialize "
                                f"the asset {name}")
    target = link.resolve()
    if not target.is_relative_to(root / name):
        raise ValueError(f"{link} leads to {target}, outside {root / name}: refusing to load")
    return target


def version_path(models_dir: Path, name: str, version: str) -> Path:
    """The folder of one complete version of model ``name``; an error for a name that is not
    a version folder's (nothing outside the model's folder is ever named) or an absent one."""
    if not _VERSION_RE.match(version):
        raise ValueError(f"{version!r} is not a model version folder's name")
    folder = models_dir / name / version
    if not (folder / COMPLETE).exists():
        raise FileNotFoundError(f"no complete version {version} of {name} under {models_dir}")
    return folder


def read_metrics(models_dir: Path, name: str) -> dict:
    return json.loads((current_dir(models_dir, name) / "metrics.json").read_text())


def published_models(models_dir: Path) -> list[str]:
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.iterdir() if (p / CURRENT).exists())
