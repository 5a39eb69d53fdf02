"""The promotion rule: the best eligible model serves first; a challenger replaces the champion
only by a margin on the same validation split; a stale or failing champion is replaced; a
model that fails its baseline never serves; pinned versions survive publishing."""

from __future__ import annotations

import pytest

from so_assets.models.publication.artifacts import new_version_dir, publish
from so_assets.models.publication.production import (
    PINNED,
    Candidate,
    choose,
    decision,
    read_production,
    record_production,
)


def tag(name: str, figure: float, version: str = "", current: bool = True,
        passes: bool = True) -> Candidate:
    return Candidate("tag", name, f"tag_model_{name}", version or f"v-{name}", figure, 0.2,
                     True, "2024-03-18T00:00:00", current, passes)


def test_the_best_eligible_model_serves_first():
    chosen, reason = choose("tag", [tag("a", 0.50), tag("b", 0.60), tag("c", 0.70,
                                                                          passes=False)], None)
    assert chosen.name == "b" and reason.startswith("first production model")


def test_a_challenger_needs_the_margin_on_the_same_split():
    champion = tag("a", 0.600, "v-old")
    close, reason = choose("tag", [tag("b", 0.604)], champion)
    assert close is champion and reason.startswith("kept: the best challenger b")
    clear, reason = choose("tag", [tag("b", 0.606)], champion)
    assert clear.name == "b" and reason.startswith("promoted")


def test_a_stale_champion_is_replaced_and_nothing_failing_ever_serves():
    stale = tag("a", 0.9, "v-old", current=False)
    chosen, reason = choose("tag", [tag("b", 0.5)], stale)
    assert chosen.name == "b" and "older tag tree" in reason
    nothing, reason = choose("tag", [tag("b", 0.5, passes=False)], None)
    assert nothing is None and "nothing may serve" in reason
    kept, _ = choose("tag", [tag("b", 0.5, passes=False)], tag("a", 0.6, "v-old"))
    assert kept.name == "a"


def test_the_serving_version_is_pinned_and_survives_publishing(tmp_path):
    models = tmp_path / "models"
    first = new_version_dir(models, "tag_model_a")
    (first / "predictor.json").write_text("{}")
    publish(first)
    candidate = tag("a", 0.6, first.name)
    record_production(models, [decision(candidate, "first")])
    assert (first / PINNED).exists() and read_production(models)["tag"].version == first.name
    for _ in range(3):  # publishing keeps two versions, and the pinned one besides
        newer = new_version_dir(models, "tag_model_a")
        publish(newer)
    assert first.exists()
    replacement = tag("a", 0.7, newer.name)
    record_production(models, [decision(replacement, "promoted")])
    assert not (first / PINNED).exists() and (newer / PINNED).exists()


@pytest.mark.parametrize("version", ["../../etc", "v1/../../x", "current"])
def test_a_recorded_version_never_leads_out_of_its_model_folder(tmp_path, version):
    from so_assets.models.publication.artifacts import version_path

    with pytest.raises(ValueError, match="is not a model version folder's name"):
        version_path(tmp_path, "tag_model_a", version)
