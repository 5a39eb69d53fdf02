"""Typed model parameters: defaults written once, unknown and ill-typed keys refused with a
message naming them, nested merging, and saved models reloading their parameters."""

from __future__ import annotations

import json

import pytest

from so_assets.models.registry import MODELS, ModelSpec, load_model, tag_model
from so_assets.models.tags.linear import TfidfLinear, TfidfLinearParams
from so_assets.models.training.config import TrainConfig
from so_assets.params import describe


def test_every_registered_model_has_typed_parameters_with_docs():
    for spec in MODELS:
        assert isinstance(spec.params, spec.model.params_class)
        for name, kind, _, doc in describe(spec.model.params_class):
            assert kind and doc, f"{spec.name}.{name} has no type or no doc"
        assert type(spec.params).from_dict(spec.params.to_dict()) == spec.params


def test_a_misspelt_key_in_the_registry_is_refused_naming_it_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"model 'x': unknown parameter 'Cc' for "
                                         r"TfidfLinearParams; valid: C, max_features"):
        ModelSpec("x", TfidfLinear, "a typo", {"Cc": 1.0})


@pytest.mark.parametrize(("changes", "message"), [
    ({"C": "strong"}, r"parameter 'C' must be float, not 'strong'"),
    ({"C": True}, r"parameter 'C' must be float, not True"),
    ({"C": -1}, r"parameter 'C' must be > 0, not -1.0"),
    ({"max_features": 2.5}, r"parameter 'max_features' must be int, not 2.5"),
])
def test_ill_typed_or_out_of_range_values_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        tag_model("tfidf_linear").with_params(changes)


def test_nested_parameters_merge_field_by_field_and_name_the_full_path():
    mlp = tag_model("mlp").with_params({"train": {"epochs": 3}})
    assert mlp.params.train == TrainConfig(epochs=3)  # the rest: TrainConfig's defaults
    assert mlp.params.hidden == tag_model("mlp").params.hidden
    hybrid = tag_model("hybrid").with_params({"dense": {"train": {"lr": 0.01}}})
    assert hybrid.params.dense.train.lr == 0.01 and hybrid.params.dense.train.epochs == 60
    with pytest.raises(ValueError, match=r"unknown parameter 'dense.train.epoch' for "
                                         r"TrainConfig; valid: epochs"):
        tag_model("hybrid").with_params({"dense": {"train": {"epoch": 3}}})
    with pytest.raises(ValueError, match=r"'dense.train.scheduler' must be 'onecycle' or "
                                         r"'plateau', not 'cosine'"):
        tag_model("hybrid").with_params({"dense": {"train": {"scheduler": "cosine"}}})


def test_defaults_are_written_once_the_hybrid_parts_are_the_published_models():
    hybrid = tag_model("hybrid").params
    assert hybrid.sparse == tag_model("tfidf_linear").params == TfidfLinearParams()
    assert hybrid.dense == tag_model("mlp").params
    assert hybrid.neighbours == tag_model("knn_votes").params


def test_saved_parameters_are_checked_when_a_model_loads(tmp_path):
    import numpy as np
    from scipy import sparse

    from so_assets.models.core.data import LabelSpace
    from so_assets.models.core.nearest import NeighbourIndex

    labels = LabelSpace(["a", "b"], ["x", "y"], [0, 1])
    folder = tmp_path / "model"
    model = tag_model("knn_votes").with_params({"k": 7}).build(labels)
    model.index, model.clusters = NeighbourIndex(np.zeros((1, 2))), np.zeros((1, 2))
    model.tags = sparse.csr_matrix((1, 2), dtype=np.float32)
    model.save(folder)
    assert json.loads((folder / "predictor.json").read_text())["params"] == {"k": 7,
                                                                             "power": 4.0}
    assert load_model(folder).params.k == 7
    meta = json.loads((folder / "predictor.json").read_text())
    meta["params"]["neighbors"] = 3
    (folder / "predictor.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"unknown parameter 'neighbors' for KnnVotesParams"):
        load_model(folder)
