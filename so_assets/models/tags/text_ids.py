"""Words of a question as integer ids: hashed word and bigram ids (fixed memory, no vocabulary
to store) and a vocabulary built from the training split. Id 0 is padding everywhere."""

from __future__ import annotations

import itertools
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

WORD = re.compile(r"[a-z0-9][a-z0-9+#.\-_]*[a-z0-9+#]|[a-z0-9+#]")
UNKNOWN = 1  # vocabulary id of a word outside it


def words(text: str) -> list[str]:
    """Lower-cased words; ``c++``, ``c#``, ``node.js`` and ``x-86`` stay whole."""
    return WORD.findall(text.lower())


def padded(rows: Sequence[Sequence[int]], length: int) -> np.ndarray:
    """[n, length] int64, each row cut to ``length`` and padded with 0."""
    out = np.zeros((len(rows), length), dtype=np.int64)
    for i, row in enumerate(rows):
        row = row[:length]
        out[i, : len(row)] = row
    return out


def hashed_ngrams(texts: Iterable[str], buckets: int, length: int) -> np.ndarray:
    """Word unigrams then bigrams, hashed (crc32) into ``buckets`` - 1 ids after padding 0."""
    rows = []
    for text in texts:
        tokens = words(text)
        grams = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
        rows.append([1 + zlib.crc32(g.encode()) % (buckets - 1) for g in grams])
    return padded(rows, length)


class Vocabulary:
    """The most frequent training words (seen at least ``min_count`` times); 0 pads and 1 is
    every other word."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.index = {w: i + 2 for i, w in enumerate(tokens)}

    @classmethod
    def build(cls, texts: Iterable[str], size: int, min_count: int = 2) -> Vocabulary:
        counts = Counter(w for text in texts for w in words(text))
        return cls([w for w, n in counts.most_common(size) if n >= min_count])

    def __len__(self) -> int:
        return len(self.tokens) + 2

    def ids(self, texts: Iterable[str], length: int) -> np.ndarray:
        """[n, length] ids of each text's first ``length`` words."""
        return padded([[self.index.get(w, UNKNOWN) for w in words(t)] for t in texts], length)
