"""Parts trained once and stored once.

``hybrid`` stacks the TF-IDF model, the MLP and the neighbour votes, which are also published
on their own as ``tfidf_linear``, ``mlp`` and ``knn_votes``. A family that sets
``Model.shares_state`` keeps its learned state in ``<models>/_shared/<family>-<key>/``, where
the key hashes what it learned from (family, parameters, labels, the training and validation
questions' ids, texts, vectors and labels) and the models package's code. Whoever trains
second on the same inputs with the same code loads that folder instead of training again
(training is seeded and deterministic, so it would learn the same state); every model folder
that uses it names it in ``shared_part.json``; :func:`remove_unused` deletes the parts no
model folder names.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from so_assets.storage.durability import fsync_dir, fsync_tree
from so_assets.storage.leftovers import remove_if_abandoned, writer_suffix

if TYPE_CHECKING:
    from so_assets.models.core.data import LabelSpace, SplitData, TrainingData
    from so_assets.params import Params

R = TypeVar("R")


class Part(Protocol):
    """What this module needs of a model (``so_assets.models.core.base.Model`` has it)."""

    family: str
    params: Params
    labels: LabelSpace
    shared_key: str | None

    def save_state(self, directory: Path) -> None: ...

    def load_state(self, directory: Path) -> None: ...

SHARED = "_shared"
REFERENCE = "shared_part.json"
COMPLETE = "COMPLETE"
KEY = re.compile(r"^[a-z0-9_]+-[0-9a-f]{24}$")
HASH_ROWS = 4096  # tag rows made dense at a time while hashing a split
GRACE_SECONDS = 3600.0
"""An unnamed part younger than this is kept: a training may have stored it and not yet
published the folder that names it."""


def inputs_key(model: Part, data: TrainingData) -> str:
    """``<family>-<hash>`` of everything the fit could depend on, the model code included."""
    digest = hashlib.sha256(json.dumps(
        {"family": model.family, "params": model.params.to_dict(),
         "labels": model.labels.to_json(),
         "code": model_code_fingerprint()}, sort_keys=True, default=str).encode())
    for split in (data.train, data.validation):
        _hash_split(digest, split)
    return f"{model.family}-{digest.hexdigest()[:24]}"


@functools.cache
def model_code_fingerprint() -> str:
    """A hash of the models package's source: a part trained by other code is never reused."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode() + source.read_bytes())
    return digest.hexdigest()


def _hash_split(digest, split: SplitData) -> None:
    for array in (split.question_ids, split.title_vectors, split.body_vectors, split.clusters):
        digest.update(np.ascontiguousarray(array).tobytes())
    for lo in range(0, split.tags.shape[0], HASH_ROWS):  # the dense bytes, a block at a time
        digest.update(split.tags[lo: lo + HASH_ROWS].toarray().tobytes())
    for text in (*split.titles, *split.bodies):
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x1f")


def fit_or_reuse(model: Part, data: TrainingData, shared_dir: Path, fit: Callable[[], R],
                 log: logging.Logger | None = None) -> R | None:
    """Load ``model``'s state from ``shared_dir`` when a part with the same inputs is stored
    (None is returned); else run ``fit`` and store the state there (its result is returned).
    ``model.shared_key`` names the part afterwards."""
    key = inputs_key(model, data)
    folder = shared_dir / key
    if (folder / COMPLETE).exists():
        refuse_pickles(folder)
        model.load_state(folder)
        model.shared_key = key
        if log:
            log.info("%s: trained on the same inputs before, state reused from %s",
                     model.family, folder)
        return None
    result = fit()
    shared_dir.mkdir(parents=True, exist_ok=True)
    tmp = shared_dir / f".{key}.{writer_suffix()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    model.save_state(tmp)
    (tmp / COMPLETE).write_text(str(time.time()))
    fsync_tree(tmp)
    try:
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / COMPLETE).exists():  # not another writer's copy: a real failure
            raise
        # another writer stored the same part first: theirs is as good
    fsync_dir(shared_dir)
    model.shared_key = key
    return result


def referenced_part(directory: Path) -> Path | None:
    """The shared folder ``directory`` names, or None when it holds its own state. The part
    must be a plain name under the models folder's ``_shared`` (nothing else is followed)."""
    reference = directory / REFERENCE
    if not reference.exists():
        return None
    key = json.loads(reference.read_text())["part"]
    if not KEY.match(key):
        raise ValueError(f"{reference} names {key!r}, not a shared part")
    for parent in list(directory.parents)[:3]:  # <models>/<asset>/<version>[/<part>]
        folder = parent / SHARED / key
        if (folder / COMPLETE).exists():
            return folder
    raise FileNotFoundError(f"{reference} names the shared part {key}, which is not stored "
                            "under the models folder: train the model again")


def save_part(model: Part, directory: Path) -> None:
    """``model``'s state into ``directory``: a reference when it is a shared part."""
    directory.mkdir(parents=True, exist_ok=True)
    if getattr(model, "shared_key", None):
        (directory / REFERENCE).write_text(json.dumps({"part": model.shared_key}))
    else:
        model.save_state(directory)


PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle", ".pck")


def refuse_pickles(directory: Path) -> None:
    """Refuse a model folder that holds a pickle: unpickling runs whatever code the file names,
    so a planted file would run as whoever loads the model. so_assets saves models as data
    (JSON, npz, torch weights loaded with ``weights_only``, XGBoost's own format); folders
    saved by versions that pickled are refused, to be retrained."""
    if not directory.is_dir():
        return
    found = sorted(p.name for p in directory.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES)
    if found:
        raise ValueError(f"{directory} holds {', '.join(found)}: a pickle runs code when it is "
                         "loaded, so so_assets never loads one. Models are saved as data now; "
                         "train this model again (materialize its asset) to replace the folder")


def load_part(model: Part, directory: Path) -> None:
    """Read back what :func:`save_part` wrote (never a pickle: :func:`refuse_pickles`)."""
    folder = referenced_part(directory) or directory
    refuse_pickles(folder)
    model.load_state(folder)


def remove_unused(models_dir: Path) -> list[str]:
    """Delete shared parts that no model folder names (older than the grace period) and the
    temporary folders of writers that died; returns the removed keys."""
    shared = models_dir / SHARED
    if not shared.is_dir():
        return []
    named = {json.loads(ref.read_text())["part"]
             for ref in models_dir.glob(f"*/v*/**/{REFERENCE}")}
    removed = []
    for part in shared.iterdir():
        if part.name.startswith("."):
            remove_if_abandoned(part)
        elif part.name not in named and time.time() - part.stat().st_mtime > GRACE_SECONDS:
            shutil.rmtree(part, ignore_errors=True)
            removed.append(part.name)
    return removed
