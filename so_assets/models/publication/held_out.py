"""A tag model's validation scores, stored beside it when it is published, so that the
evaluation report reads them instead of scoring validation again (for ``seq2seq_*`` that is a
second beam search over the split).

They are reused only for the very questions they were computed on (the same ids in the same
order): a validation split that changed since (new partitions) is scored again. Past
:data:`MAX_STORED_MB` they are not stored (10,000 validation questions x 15,000 tag labels is
600 MB a model) and the report scores validation itself, as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from so_assets.models.core.base import Scores

FILE = "validation_scores.npz"
MAX_STORED_MB = 64


def write_held_out_scores(version: Path, question_ids: np.ndarray, scores: Scores) -> bool:
    """Store ``scores`` of the validation questions ``question_ids`` in ``version`` (the folder
    being published); False, and nothing written, when they are over :data:`MAX_STORED_MB`."""
    arrays = {"question_ids": np.asarray(question_ids),
              **{k: v for k, v in (("clusters", scores.clusters), ("tags", scores.tags))
                 if v is not None}}
    if sum(a.nbytes for a in arrays.values()) > MAX_STORED_MB * 2**20:
        return False
    np.savez(version / FILE, **arrays)
    return True


def read_held_out_scores(folder: Path, question_ids: np.ndarray) -> Scores | None:
    """The validation scores stored in the model folder ``folder``, when they were computed
    on exactly ``question_ids``; None otherwise (not stored, or another split)."""
    path = folder / FILE
    if not path.exists():
        return None
    with np.load(path) as stored:
        if not np.array_equal(stored["question_ids"], question_ids):
            return None
        return Scores(clusters=stored.get("clusters"), tags=stored.get("tags"))
