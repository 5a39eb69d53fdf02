"""Seeded samples of the tag tree's clusters and of the orphan imputations, for a person to
judge by eye in the clustering report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from so_assets.evaluation.report import Table

SAMPLE_SIZE = 12  # clusters and imputations shown
SAMPLE_MEMBERS = 15  # members listed per sampled cluster


def sampled_clusters(tag_paths: Mapping[str, Sequence[int]], cluster_names: Sequence[str],
                     tag_counts: Mapping[str, int]) -> Table:
    """A seeded random sample of depth-1 clusters with their members, most used first."""
    members: dict[int, list[str]] = {}
    for tag, path in tag_paths.items():
        members.setdefault(path[0], []).append(tag)
    table = Table(["cluster", "representative", "tags", "members (most used first)"])
    picked = np.random.default_rng(0).choice(len(cluster_names),
                                             min(SAMPLE_SIZE, len(cluster_names)),
                                             replace=False)
    for cluster in sorted(picked.tolist()):
        tags = sorted(members.get(cluster, []), key=lambda t: -tag_counts[t])
        shown = ", ".join(tags[:SAMPLE_MEMBERS]) + (" …" if len(tags) > SAMPLE_MEMBERS else "")
        table.add(cluster, cluster_names[cluster], len(tags), shown)
    return table


def sampled_imputations(orphans: Sequence[tuple[str, int, str | None, float]],
                        cluster_name_of: Mapping[str, str]) -> Table:
    """A seeded random sample of (orphan, training questions, kept tag or None, cosine) with
    where each went (or that it stayed unmapped) and the kept tag's cluster."""
    table = Table(["orphan", "training questions", "-> kept tag", "its cluster", "cosine"],
                  digits=2)
    if not orphans:
        return table
    picked = np.random.default_rng(0).choice(len(orphans), min(SAMPLE_SIZE, len(orphans)),
                                             replace=False)
    for orphan, count, target, cosine in sorted(orphans[i] for i in picked.tolist()):
        table.add(orphan, count, target or "(unmapped)",
                  cluster_name_of.get(target, "") if target else "", cosine)
    return table
