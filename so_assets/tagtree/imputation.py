"""Orphan tags (below the frequency threshold) mapped to their nearest kept tag by cosine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from so_assets.tagtree.geometry import normalize_rows


@dataclass(frozen=True)
class Imputation:
    """Kept tags; for each mapped orphan its nearest kept tag and their cosine similarity; the
    orphans left unmapped (no kept tag within the minimum similarity) with their best cosine."""

    kept: list[str]
    orphan_target: dict[str, str]
    orphan_similarity: dict[str, float]
    unmapped: dict[str, float] = field(default_factory=dict)

    def labels_for(self, question_tags: Iterable[str], cluster_of: dict[str, int]
                   ) -> tuple[list[str], list[int], bool]:
        """A question's kept tags and cluster labels; orphan-only questions take their tags'
        imputed targets (the returned flag says so). Tags never seen are ignored."""
        tags = list(question_tags)
        kept = [t for t in tags if t in cluster_of]
        imputed = False
        if not kept:
            kept = [self.orphan_target[t] for t in tags if t in self.orphan_target]
            imputed = bool(kept)
        kept = list(dict.fromkeys(kept))
        clusters = sorted({cluster_of[t] for t in kept})
        return kept, clusters, imputed


def is_kept(counts: Sequence[int] | np.ndarray, min_tag_count: int) -> np.ndarray:
    """The kept-tag rule, written once: a tag is kept when at least ``min_tag_count``
    questions use it; the others are orphans."""
    return np.asarray(counts) >= min_tag_count


def labelled_orphans(orphans: Iterable[tuple[str, int, str | None]],
                     min_label_count: int | None) -> list[tuple[str, str]]:
    """(orphan, kept tag) of the mapped orphans on at least ``min_label_count`` training
    questions, given (orphan, training questions, kept tag or None): tag labels of their own,
    placed where their kept tag is. None (a tree stored before the setting): none."""
    if min_label_count is None:
        return []
    return sorted((o, k) for o, count, k in orphans if k and count >= min_label_count)


def impute_orphans(tags: Sequence[str], vectors: np.ndarray, counts: Sequence[int],
                   min_tag_count: int, min_similarity: float = -1.0, batch: int = 4096
                   ) -> Imputation:
    """Split tags at ``min_tag_count`` and map each orphan to its most similar kept tag, unless
    even that one is less similar than ``min_similarity`` (the orphan is then unmapped)."""
    counts = np.asarray(counts)
    kept = is_kept(counts, min_tag_count)
    kept_index = np.flatnonzero(kept)
    if len(kept_index) == 0:
        raise ValueError(f"no tag is used by at least min_tag_count={min_tag_count} questions "
                         f"(the most used has {int(counts.max()) if len(counts) else 0}); "
                         "lower min_tag_count")
    orphan_index = np.flatnonzero(~kept)
    unit = normalize_rows(np.asarray(vectors, dtype=np.float32))
    kept_unit = unit[kept_index]
    targets: dict[str, str] = {}
    similarity: dict[str, float] = {}
    unmapped: dict[str, float] = {}
    for lo in range(0, len(orphan_index), batch):
        rows = orphan_index[lo : lo + batch]
        sims = unit[rows] @ kept_unit.T
        best = sims.argmax(axis=1)
        for row, col, sim in zip(rows, best, sims[np.arange(len(rows)), best], strict=True):
            if sim < min_similarity:
                unmapped[tags[row]] = float(sim)
                continue
            targets[tags[row]] = tags[kept_index[col]]
            similarity[tags[row]] = float(sim)
    return Imputation([tags[i] for i in kept_index], targets, similarity, unmapped)
