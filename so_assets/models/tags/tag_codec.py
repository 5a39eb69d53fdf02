"""Kept tags as token sequences a decoder writes, and decoding held to valid sequences.

Each kept tag is one item: a single token (``seq2seq_tags``), its path in the tag tree plus its
place in the leaf (``seq2seq_paths``), or the tokenizer's pieces of a text and a separator (a
pretrained T5). Items are prefix-free, so a written sequence reads back unambiguously, and a
trie of them says which tokens may come next (beam search with a prefix constraint).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

PAD, EOS = 0, 1  # the codec's own vocabulary (the small decoder trained here)


@dataclass
class TagCodec:
    """``items[i]``: the token sequence of kept tag ``i``; ``order``: the tags by training
    frequency, most used first (the order a question's tags are written in)."""

    items: list[tuple[int, ...]]
    vocab_size: int
    pad: int = PAD
    eos: int = EOS
    order: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.item_of = {seq: i for i, seq in enumerate(self.items)}
        if len(self.item_of) != len(self.items):
            raise ValueError("two tags have the same token sequence")
        self.children: dict[tuple[int, ...], set[int]] = defaultdict(set)
        for seq in self.items:
            for i in range(len(seq)):
                self.children[seq[:i]].add(seq[i])
            if seq in self.children:
                raise ValueError(f"tag sequence {seq} is a prefix of another")
        self.rank = {tag: r for r, tag in enumerate(self.order or range(len(self.items)))}

    @classmethod
    def single_tokens(cls, n_tags: int, counts: Sequence[float]) -> TagCodec:
        """Tag ``i`` is token ``2 + i``."""
        return cls([(2 + i,) for i in range(n_tags)], 2 + n_tags,
                   order=_by_count(counts))

    @classmethod
    def tree_paths(cls, paths: Sequence[Sequence[int]], counts: Sequence[float]) -> TagCodec:
        """Tag ``i`` is its tree path, one token per (depth, branch), then a leaf token for its
        rank among the tags sharing that path (leaf tokens end an item)."""
        vocabulary: dict[tuple, int] = {}

        def token(key: tuple) -> int:
            return vocabulary.setdefault(key, 2 + len(vocabulary))

        order = _by_count(counts)
        in_leaf: dict[tuple[int, ...], int] = defaultdict(int)
        codes: dict[int, tuple[int, ...]] = {}
        for tag in order:  # the leaf's most used tag gets leaf token 0
            path = tuple(paths[tag])
            codes[tag] = (*(token(("node", depth, branch)) for depth, branch in enumerate(path)),
                          token(("leaf", in_leaf[path])))
            in_leaf[path] += 1
        return cls([codes[i] for i in range(len(paths))], 2 + len(vocabulary), order=order)

    @classmethod
    def texts(cls, texts: Sequence[str], tokenizer, counts: Sequence[float],
              separator: str = ";") -> TagCodec:
        """A pretrained tokenizer's pieces of each text, then the separator's pieces."""
        sep = tuple(tokenizer(separator, add_special_tokens=False)["input_ids"])
        items = [tuple(tokenizer(t, add_special_tokens=False)["input_ids"]) + sep
                 for t in texts]
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else (
            tokenizer.sep_token_id)
        return cls(items, len(tokenizer), pad=tokenizer.pad_token_id, eos=eos,
                   order=_by_count(counts))

    @property
    def longest(self) -> int:
        return max(len(s) for s in self.items)

    def encode(self, tags: np.ndarray, max_tags: int) -> list[int]:
        """The target of one question (its [t] indicator row): its most used ``max_tags``
        tags' items in frequency order, then EOS."""
        chosen = sorted(np.flatnonzero(tags), key=self.rank.__getitem__)[:max_tags]
        return [token for tag in chosen for token in self.items[tag]] + [self.eos]

    def split(self, tokens: Sequence[int]) -> tuple[list[int], tuple[int, ...]]:
        """The tags a written sequence holds (in order) and its unfinished item's prefix; stops
        at EOS and skips padding."""
        tags: list[int] = []
        prefix: tuple[int, ...] = ()
        for token in tokens:
            if token == self.eos:
                break
            if token == self.pad and not prefix:
                continue
            prefix = (*prefix, int(token))
            if prefix in self.item_of:
                tags.append(self.item_of[prefix])
                prefix = ()
        return tags, prefix

    def allowed(self, written: Sequence[int]) -> list[int]:
        """Tokens that may follow ``written`` (without the decoder's start token): inside an
        item, its trie children; between items, any item's first token not already written as
        a whole one-token item, or EOS."""
        tags, prefix = self.split(written)
        if prefix:
            return sorted(self.children.get(prefix, ())) or [self.eos]
        done = {self.items[t][0] for t in tags if len(self.items[t]) == 1}
        return [*sorted(self.children[()] - done), self.eos]


def _by_count(counts: Sequence[float]) -> list[int]:
    return [int(i) for i in np.argsort(-np.asarray(counts, dtype=float), kind="stable")]
