"""The TF-IDF features the linear families read (word 1-2 grams of the question text), and
their state saved as data: the vocabulary as JSON, the idf weights as an array. Nothing is
pickled, so loading a model folder never runs code from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

SETTINGS = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True}
"""How every TF-IDF of so_assets is built (the vocabulary size is the family's parameter)."""


def new_vectorizer(max_features: int) -> TfidfVectorizer:
    """An unfitted TF-IDF over word 1-2 grams (float32, sublinear tf, in two questions)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(**SETTINGS, max_features=max_features, dtype=np.float32)


def save_vectorizer(vectorizer: TfidfVectorizer, directory: Path, name: str) -> None:
    """``<name>_vocabulary.json`` (term -> column) and ``<name>_idf.npy``."""
    vocabulary = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
    (directory / f"{name}_vocabulary.json").write_text(json.dumps(vocabulary))
    np.save(directory / f"{name}_idf.npy", vectorizer.idf_)


def load_vectorizer(directory: Path, name: str) -> TfidfVectorizer:
    """The fitted vectorizer :func:`save_vectorizer` wrote, from its data alone."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocabulary = json.loads((directory / f"{name}_vocabulary.json").read_text())
    if not isinstance(vocabulary, dict) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in vocabulary.items()):
        raise ValueError(f"{directory / f'{name}_vocabulary.json'} is not a term -> column map")
    idf = np.load(directory / f"{name}_idf.npy", allow_pickle=False)
    if idf.shape != (len(vocabulary),):
        raise ValueError(f"{directory}: {len(idf)} idf weights for {len(vocabulary)} terms")
    vectorizer = TfidfVectorizer(**SETTINGS, vocabulary=vocabulary, dtype=np.float32)
    vectorizer.idf_ = idf
    return vectorizer
