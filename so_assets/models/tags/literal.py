"""Tags a question names in its own words: on Stack Exchange a tag is very often written in the
title or body ("my arduino resets", "machine learning model"), a signal a per-label model
learns label by label but that holds for every tag alike, the rare ones included."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

WORD = re.compile(r"\.?[a-z0-9+#][a-z0-9+#.]*")
LONGEST = 3  # tags of up to three words ("windows-server-2019")


def word_grams(text: str) -> set[str]:
    """Runs of one to three words joined by hyphens, as tags are written ("machine learning"
    and "machine-learning" both give "machine-learning"), each also without a plural "s"."""
    words = [w.rstrip(".") for w in WORD.findall(text.lower())]
    grams = {"-".join(words[i: i + n]) for n in range(1, LONGEST + 1)
             for i in range(len(words) - n + 1)}
    return grams | {g[:-1] for g in grams if len(g) > 3 and g.endswith("s")}


def named_tags(texts: Sequence[str], tags: Sequence[str]) -> np.ndarray:
    """[n texts, n tags] float32: 1 where the text names the tag."""
    column = {tag: j for j, tag in enumerate(tags)}
    named = np.zeros((len(texts), len(tags)), dtype=np.float32)
    for i, text in enumerate(texts):
        hits = [column[g] for g in word_grams(text) if g in column]
        named[i, hits] = 1.0
    return named
