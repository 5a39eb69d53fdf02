"""The generated tag universe of `generate-sample --tags`: long-tailed, co-occurring, textual."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np

from so_assets.stackexchange.sample_generator import TOPICS, generate_sample
from so_assets.stackexchange.tag_universe import tag_universe

RARE = next(i for i, t in enumerate(TOPICS) if t.name == "rare")
VALID_TAG = re.compile(r"^[a-z0-9#+.\-]+$")


def items_of(folder):
    return [i for p in sorted((folder / "questions").glob("*.json"))
            for i in json.loads(p.read_text())["items"]]


def test_the_universe_grows_under_the_hand_picked_tags():
    hand_picked = sum(len(t.tags) for t in TOPICS)
    universe = tag_universe([t.tags for t in TOPICS], RARE, 5_000, seed=3)
    assert len(universe.names) == len(set(universe.names)) == 5_000
    assert all(VALID_TAG.match(name) for name in universe.names)
    added = np.flatnonzero(universe.parent >= 0)
    assert len(added) == 5_000 - hand_picked
    for i in added[:200]:
        broader = int(universe.parent[i])
        assert universe.parent[broader] == -1 and universe.topic[broader] == universe.topic[i]
        assert universe.names[i].startswith(universe.names[broader] + "-")
        assert len(universe.words[i]) == 2
    assert np.all(np.diff(universe.popularity) <= 0) and np.isclose(universe.popularity.sum(), 1)
    assert tag_universe([t.tags for t in TOPICS], RARE, 5_000, seed=3).names == universe.names


def test_a_sample_over_thousands_of_tags_is_long_tailed_and_co_occurring(tmp_path):
    manifest = generate_sample(tmp_path, n_questions=6_000, n_days=3, seed=9, n_tags=3_000)
    items = {i["question_id"]: i for i in items_of(tmp_path)}
    counts = Counter(t for i in items.values() for t in i["tags"])
    assert manifest["tag_universe"] == 3_000
    assert manifest["distinct_tags"] == len(counts) > 2_000
    ranked = sorted(counts.values(), reverse=True)
    assert ranked[0] > 300 and sum(n <= 3 for n in ranked) > len(ranked) / 3  # head and tail
    assert all(1 <= len(i["tags"]) <= 5 for i in items.values())
    # an added tag usually comes with its broader tag, and its own words are in the text
    universe = tag_universe([t.tags for t in TOPICS], RARE, 3_000, seed=9)
    index = {name: k for k, name in enumerate(universe.names)}
    with_room = [i for i in items.values() if len(i["tags"]) > 1
                 and universe.parent[index[i["tags"][0]]] >= 0]
    together = [universe.names[universe.parent[index[i["tags"][0]]]] in i["tags"]
                for i in with_room]
    assert len(with_room) > 500 and np.mean(together) > 0.6
    for item in with_room[:100]:
        first = index[item["tags"][0]]
        assert all(word in item["body"] for word in universe.words[first])
