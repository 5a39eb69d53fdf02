"""Parts stored once: hybrid's TF-IDF model is tfidf_linear's, not a copy; parts nobody
names are removed; a reference never leads out of the models folder."""

from __future__ import annotations

import dataclasses
import json
import logging
import os

import numpy as np
import pytest

from so_assets.models.publication.shared_parts import (
    GRACE_SECONDS,
    SHARED,
    inputs_key,
    referenced_part,
    remove_unused,
)
from so_assets.models.publication.train import train_and_publish
from so_assets.models.registry import load_model, tag_model
from so_assets_tests.models.test_tag_families import LABELS, TrainingData, synthetic_split


@pytest.fixture(scope="module")
def data() -> TrainingData:
    return TrainingData(LABELS, synthetic_split(300, 0), synthetic_split(100, 1))


def test_hybrid_reuses_the_published_tfidf_model_instead_of_storing_a_copy(data, tmp_path,
                                                                          caplog):
    models = tmp_path / "models"
    tfidf = train_and_publish(tag_model("tfidf_linear"), data, models)
    hybrid_spec = tag_model("hybrid").with_params({"dense": {"train": {"epochs": 3}}})
    with caplog.at_level(logging.INFO):
        hybrid = train_and_publish(hybrid_spec, data, models)
    assert "tfidf_linear: trained on the same inputs before, state reused" in caplog.text
    parts = sorted(p.name for p in (models / SHARED).iterdir())
    assert [p.split("-")[0] for p in parts] == ["knn_votes", "tfidf_linear", "torch_dense"]
    assert not (tfidf.folder / "tfidf_idf.npy").exists()
    assert referenced_part(tfidf.folder) == referenced_part(hybrid.folder / "sparse")
    assert len(list(models.rglob("tfidf_idf.npy"))) == 1  # stored once
    loaded = load_model(hybrid.folder)
    np.testing.assert_allclose(loaded.predict_scores(data.validation).tags,
                               hybrid.model.predict_scores(data.validation).tags, atol=1e-6)
    np.testing.assert_allclose(load_model(tfidf.folder).predict_scores(data.validation).tags,
                               tfidf.model.predict_scores(data.validation).tags, atol=1e-6)


def test_other_inputs_make_another_part(data):
    model = tag_model("tfidf_linear").build(LABELS)
    changed = dataclasses.replace(data.train, titles=["edited", *data.train.titles[1:]])
    assert inputs_key(model, data) != inputs_key(
        model, TrainingData(LABELS, changed, data.validation))
    other = tag_model("tfidf_linear").with_params({"C": 1.0}).build(LABELS)
    assert inputs_key(model, data) != inputs_key(other, data)


def test_parts_nobody_names_are_removed_after_a_grace_period(data, tmp_path):
    models = tmp_path / "models"
    trained = train_and_publish(tag_model("knn_votes"), data, models)
    used = referenced_part(trained.folder)
    unused = models / SHARED / ("knn_votes-" + "0" * 24)
    unused.mkdir()
    fresh = models / SHARED / ("knn_votes-" + "1" * 24)
    fresh.mkdir()
    old = unused.stat().st_mtime - GRACE_SECONDS - 10
    os.utime(unused, (old, old))
    assert remove_unused(models) == [unused.name]
    assert used.exists() and fresh.exists() and not unused.exists()


def test_a_reference_never_leads_out_of_the_models_folder(tmp_path):
    folder = tmp_path / "models" / "tag_model_x" / "v1"
    folder.mkdir(parents=True)
    (folder / "shared_part.json").write_text(json.dumps({"part": "../../../etc"}))
    with pytest.raises(ValueError, match="not a shared part"):
        referenced_part(folder)
    (folder / "shared_part.json").write_text(json.dumps({"part": "mlp-" + "a" * 24}))
    with pytest.raises(FileNotFoundError, match="train the model again"):
        referenced_part(folder)


def test_the_same_inputs_reuse_the_part_other_code_retrains_it(data, tmp_path, caplog,
                                                                monkeypatch):
    from so_assets.models.publication import shared_parts

    models = tmp_path / "models"
    first = train_and_publish(tag_model("tfidf_linear"), data, models)
    with caplog.at_level(logging.INFO):
        again = train_and_publish(tag_model("tfidf_linear"), data, models)
    assert "state reused" in caplog.text
    assert referenced_part(again.folder) == referenced_part(first.folder)
    monkeypatch.setattr(shared_parts, "model_code_fingerprint", lambda: "edited models")
    retrained = train_and_publish(tag_model("tfidf_linear"), data, models)
    assert referenced_part(retrained.folder) != referenced_part(first.folder)
