"""The generated sample's tags: which exist, how popular each is, which come together.

The bundled sample uses the topics' hand-picked tags alone (about 100). With ``n_tags`` more,
the universe grows the way StackOverflow's does: each added tag narrows a hand-picked one
(``pandas-groupby`` under ``pandas``, ``docker-networking-compose`` ...), stays in its topic,
comes with its broader tag on most questions, and has two words of its own that its questions
use (what a tag is about shows in the text, not only in the tag's name). Popularity is Zipf
over the whole universe, hand-picked tags first, so the added ones make the long tail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FACETS = (
    "api", "testing", "performance", "configuration", "deployment", "security", "logging",
    "migration", "plugins", "cli", "async", "caching", "serialization", "authentication",
    "errors", "debugging", "installation", "packaging", "streams", "events", "routing",
    "templates", "validation", "dependencies", "memory", "threads", "networking", "storage",
    "monitoring", "upgrade", "encoding", "permissions", "build", "unicode", "datetime",
    "regex", "json", "xml", "csv", "http", "websocket", "grpc", "oauth", "charts", "forms",
)
"""What an added tag narrows its broader tag to: one or two of these after its name."""
SYLLABLES = ("ka", "lo", "mi", "ren", "sa", "tor", "vi", "zel", "qua", "bri", "dex", "fen",
             "gor", "hul", "jin", "mox", "nap", "pry", "rul", "sen", "tav", "wex", "yor")
PARENT_SHARE = 0.7
"""How often an added tag's question also carries its broader tag (when it has room)."""
TAIL_EXPONENT = 0.95
"""Zipf exponent of a universe with added tags (the hand-picked sample's is 1.15): with it a
tag ranked 20,000th still comes up about once in 20,000 questions."""


@dataclass(frozen=True)
class TagUniverse:
    """Every tag with its topic, its broader tag (-1: none), its own words and popularity."""

    names: list[str]
    topic: np.ndarray  # [tags] index into the generator's topics
    parent: np.ndarray  # [tags] index of the broader tag, -1 for a hand-picked tag
    words: list[tuple[str, ...]]  # [tags] words its questions use (empty: hand-picked)
    popularity: np.ndarray  # [tags] sums to 1
    topic_members: list[np.ndarray]  # per topic: its tags, hand-picked ones first

    def question_tags(self, rng: np.random.Generator) -> list[int]:
        """One question's tags (1-5): a primary by popularity, its broader tag most of the
        time, then mostly tags of the same topic."""
        primary = int(rng.choice(len(self.names), p=self.popularity))
        n_tags = int(rng.choice([1, 2, 3, 4, 5], p=[0.14, 0.26, 0.30, 0.20, 0.10]))
        tags = [primary]
        if self.parent[primary] >= 0 and n_tags > 1 and rng.random() < PARENT_SHARE:
            tags.append(int(self.parent[primary]))
        members = self.topic_members[int(self.topic[primary])]
        same = members[members != primary]
        everyone = np.arange(len(self.names))
        while len(tags) < n_tags:
            pool = same if len(same) and rng.random() < 0.8 else everyone
            weights = self.popularity[pool] ** 0.7
            tag = int(pool[int(rng.choice(len(pool), p=weights / weights.sum()))])
            if tag not in tags:
                tags.append(tag)
            elif np.isin(pool, tags).all():
                break
        return tags


def tag_universe(topic_tags: list[tuple[str, ...]], rare_topic: int, n_tags: int | None = None,
                 seed: int = 0) -> TagUniverse:
    """The hand-picked tags of each topic (``topic_tags``; the ``rare_topic``'s stay at the
    end of the popularity ranking) and, when ``n_tags`` exceeds them, added tags up to
    ``n_tags``."""
    names, topic = _hand_picked(topic_tags, rare_topic)
    parent = [-1] * len(names)
    words: list[tuple[str, ...]] = [()] * len(names)
    extra = max(0, (n_tags or 0) - len(names))
    if extra:
        rng = np.random.default_rng(seed)
        taken = set(names)
        common = [i for i, t in enumerate(topic) if t != rare_topic]
        for _ in range(extra):
            broader = int(rng.choice(common))
            name = _new_name(rng, names[broader], taken)
            taken.add(name)
            names.append(name)
            topic.append(topic[broader])
            parent.append(broader)
            words.append((_word(rng), _word(rng)))
    exponent = TAIL_EXPONENT if extra else 1.15
    popularity = 1.0 / np.arange(1, len(names) + 1) ** exponent
    topics = np.array(topic)
    members = [np.concatenate([np.array([names.index(t) for t in tags], dtype=np.int64),
                               np.flatnonzero((topics == i) & (np.array(parent) >= 0))])
               for i, tags in enumerate(topic_tags)]
    return TagUniverse(names, topics, np.array(parent), words, popularity / popularity.sum(),
                       members)


def _hand_picked(topic_tags: list[tuple[str, ...]], rare_topic: int
                 ) -> tuple[list[str], list[int]]:
    """Interleave the topics so the popularity ranking mixes them; the rare topic last."""
    names: list[str] = []
    topic: list[int] = []
    common = [i for i in range(len(topic_tags)) if i != rare_topic]
    for rank in range(max(len(topic_tags[i]) for i in common)):
        for i in common:
            if rank < len(topic_tags[i]):
                names.append(topic_tags[i][rank])
                topic.append(i)
    for tag in topic_tags[rare_topic]:
        names.append(tag)
        topic.append(rare_topic)
    return names, topic


def _new_name(rng: np.random.Generator, broader: str, taken: set[str]) -> str:
    """``broader-facet``, or ``broader-facet-facet`` once the short ones are used."""
    for length in (1, 2, 3):
        for _ in range(8):
            facets = rng.choice(len(FACETS), size=length, replace=False)
            name = "-".join([broader, *(FACETS[int(f)] for f in facets)])
            if name not in taken:
                return name
    raise ValueError(f"no free tag name under {broader!r}")


def _word(rng: np.random.Generator) -> str:
    return "".join(SYLLABLES[int(i)] for i in rng.choice(len(SYLLABLES), size=3))
