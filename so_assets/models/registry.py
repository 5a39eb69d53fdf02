"""The model registry: adding a model is one ``ModelSpec``; each becomes ``tag_model_<name>``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from so_assets.models.base import Predictor
from so_assets.models.boosted import XGBoostMulticlass
from so_assets.models.dense import Hierarchical, TorchDense
from so_assets.models.fusion import HybridFusion
from so_assets.models.linear import TfidfLinear
from so_assets.models.matcher_model import DualEncoderModel
from so_assets.models.sequence import SequenceModel

FAMILIES: dict[str, type[Predictor]] = {cls.family: cls for cls in (
    TfidfLinear, XGBoostMulticlass, DualEncoderModel, TorchDense, SequenceModel, Hierarchical,
    HybridFusion)}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    description: str
    params: dict = field(default_factory=dict)

    def build(self, labels) -> Predictor:
        return FAMILIES[self.family](labels, self.params)


MODEL_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec("tfidf_linear", "tfidf_linear",
              "one-vs-rest logistic regression on TF-IDF of title and body (baseline)",
              {"C": 4.0}),
    ModelSpec("xgboost", "xgboost",
              "XGBoost multiclass on the majority-vote cluster, title + body vectors",
              {"n_estimators": 150, "max_depth": 4, "learning_rate": 0.2}),
    ModelSpec("dual_encoder", "dual_encoder",
              "no training: cosine of the question to cluster means and tag vectors"),
    ModelSpec("mlp", "torch_dense", "MLP on [title, body] vectors, BCE with class weights",
              {"network": "mlp", "loss": "bce", "train": {"epochs": 60, "lr": 1e-3}}),
    ModelSpec("dsf_mhsa", "torch_dense",
              "dual-stream fusion, self-attention over 4 + 4 learned stream tokens, ASL",
              {"network": "dsf_mhsa", "loss": "asl", "train": {"epochs": 60, "lr": 5e-4}}),
    ModelSpec("dsf_cross_attention", "torch_dense",
              "dual-stream fusion, title tokens attend to body tokens; ASL (4, 1), manifold "
              "mixup, OneCycleLR",
              {"network": "dsf_cross_attention", "loss": "asl",
               "train": {"epochs": 40, "lr": 1e-3, "scheduler": "onecycle",
                         "mixup_alpha": 0.4, "patience": 10}}),
    ModelSpec("sequence_dsf", "sequence_dsf",
              "Conv1d + self-attention over 32 body segments, title segments cross-attend; "
              "focal loss with label smoothing",
              {"loss": "focal", "train": {"epochs": 40, "lr": 5e-4, "batch_size": 64}}),
    ModelSpec("hierarchical", "hierarchical",
              "cluster head and tag head on one trunk; tag score = p(cluster) x p(tag)",
              {"train": {"epochs": 60, "lr": 1e-3}}),
    ModelSpec("hybrid", "hybrid_fusion",
              "sparse + dense: TF-IDF model and dense MLP probabilities mixed with a weight "
              "chosen on validation",
              {"sparse": {"C": 4.0},
               "dense": {"network": "mlp", "loss": "bce", "train": {"epochs": 60, "lr": 1e-3}}}),
)
SPECS_BY_NAME = {spec.name: spec for spec in MODEL_SPECS}


def load_predictor(directory: Path) -> Predictor:
    """A saved model (``data/models/<name>/current``), from its artifacts only."""
    meta = json.loads((directory / "predictor.json").read_text())
    return FAMILIES[meta["family"]].restore(directory, meta)
