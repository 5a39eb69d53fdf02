"""Features known when a question is posted, for the score models.

Title and body length, code blocks, the tag count (clipped), the clusters of its tags, the
posting hour and weekday, the asker's reputation (log; 0 with a flag when unknown), and the
horizon: the age at which the score is read (a score grows with age; for a new question it is
the age at which its score is wanted). Views, answers, comments and anything about answers are
known only later and never read here: the only columns this module reads are
``POSTING_TIME_COLUMNS``.
"""

from __future__ import annotations

import numpy as np

from so_assets.models.core.data import Inputs
from so_assets.storage.datasets import POSTING_TIME_COLUMNS

TAG_COUNT_CLIP = 5


def tabular_names(n_clusters: int) -> list[str]:
    """The name of every column :func:`tabular_features` returns, in order."""
    return ["log_title_chars", "log_body_chars", "log_code_blocks", "tag_count_clipped",
            "hour_sin", "hour_cos", *[f"weekday_{d}" for d in range(7)],
            "log_owner_reputation", "owner_reputation_unknown", "log_horizon_days",
            *[f"cluster_{c}" for c in range(n_clusters)]]


def tabular_features(inputs: Inputs, n_clusters: int) -> np.ndarray:
    """[n, f] float32 posting-time features of ``inputs`` (names: :func:`tabular_names`)."""
    unknown = set(inputs.columns) - set(POSTING_TIME_COLUMNS)
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not known at posting time")
    n = len(inputs)
    columns = inputs.columns
    created = columns.get("creation_date", np.full(n, np.datetime64("NaT"), "datetime64[s]"))
    seconds = (created - created.astype("datetime64[D]")).astype(np.float64)
    hour = np.nan_to_num(seconds / 3600.0)
    weekday = np.zeros((n, 7), np.float32)
    days = created.astype("datetime64[D]").astype(np.int64)
    known_day = ~np.isnat(created)
    weekday[np.flatnonzero(known_day), (days[known_day] + 3) % 7] = 1  # 1970-01-01: Thursday
    reputation = columns.get("owner_reputation", np.full(n, np.nan))
    code_blocks = columns.get("code_block_count", np.zeros(n))
    tag_count = columns.get("num_tags", np.zeros(n))
    clusters = inputs.clusters if inputs.clusters is not None else np.zeros((n, n_clusters))
    parts = [
        np.log1p([len(t) for t in inputs.titles]).reshape(-1, 1) if n else np.zeros((0, 1)),
        np.log1p([len(b) for b in inputs.bodies]).reshape(-1, 1) if n else np.zeros((0, 1)),
        np.log1p(np.nan_to_num(code_blocks)).reshape(-1, 1),
        np.minimum(np.nan_to_num(tag_count), TAG_COUNT_CLIP).reshape(-1, 1),
        np.sin(2 * np.pi * hour / 24).reshape(-1, 1),
        np.cos(2 * np.pi * hour / 24).reshape(-1, 1),
        weekday,
        np.log1p(np.nan_to_num(np.maximum(reputation, 0))).reshape(-1, 1),
        np.isnan(reputation).astype(np.float32).reshape(-1, 1),
        np.log1p(np.nan_to_num(np.maximum(
            inputs.score_age_days if inputs.score_age_days is not None else np.zeros(n), 0))
        ).reshape(-1, 1),
        np.asarray(clusters, dtype=np.float32),
    ]
    return np.hstack([np.asarray(p, dtype=np.float32) for p in parts])
