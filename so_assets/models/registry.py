"""The model registry: adding a model is one :class:`ModelSpec` here (and, for a new family,
one class). Each spec becomes the asset ``<task>_model_<name>`` with its baseline check; its
class's attributes say what it needs and predicts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from so_assets.models.base import Model, ScoreModel, TagModel, Target
from so_assets.models.baseline import MeanBaseline, MostFrequentBaseline
from so_assets.models.boosted import XGBoostMulticlass
from so_assets.models.data import LabelSpace
from so_assets.models.dense import Hierarchical, TorchDense
from so_assets.models.dual_encoder import DualEncoderModel
from so_assets.models.finetuned import FinetunedEncoder
from so_assets.models.hybrid import HybridFusion
from so_assets.models.linear import TfidfLinear
from so_assets.models.neighbours import KnnVotes
from so_assets.models.score_boosted import XGBoostRegressor
from so_assets.models.score_linear import TabularRidge, TfidfSvdRidge
from so_assets.models.score_torch import TorchRegressor
from so_assets.models.seq2seq import Seq2SeqTagger
from so_assets.models.sequence import SequenceModel
from so_assets.models.word_models import EmbeddingBagModel, RecurrentModel

FAMILIES: dict[str, type[Model]] = {cls.family: cls for cls in (
    TfidfLinear, XGBoostMulticlass, DualEncoderModel, TorchDense, SequenceModel, Hierarchical,
    HybridFusion, MostFrequentBaseline, MeanBaseline, TfidfSvdRidge, TorchRegressor,
    XGBoostRegressor, TabularRidge, KnnVotes, EmbeddingBagModel, RecurrentModel, FinetunedEncoder,
    Seq2SeqTagger)}


@dataclass(frozen=True)
class ModelSpec:
    """One registered model: its name, class and parameters."""

    name: str
    model: type[Model]
    description: str
    params: dict = field(default_factory=dict)

    @property
    def task(self) -> str:
        return "score" if Target.SCORE in self.model.predicts else "tag"

    @property
    def asset_name(self) -> str:
        """The asset's name, which is also its folder under ``data/models/``."""
        return f"{self.task}_model_{self.name}"

    def build(self, labels: LabelSpace) -> Model:
        return self.model(labels, self.params)


TAG_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("tfidf_linear", TfidfLinear,
              "one-vs-rest logistic regression on TF-IDF of title and body (baseline)",
              {"C": 4.0}),
    ModelSpec("xgboost", XGBoostMulticlass,
              "XGBoost multiclass on the majority-vote cluster, title + body vectors",
              {"n_estimators": 150, "max_depth": 4, "learning_rate": 0.2}),
    ModelSpec("dual_encoder", DualEncoderModel,
              "no training: cosine of the question to cluster means and tag vectors"),
    ModelSpec("mlp", TorchDense, "MLP on [title, body] vectors, BCE with class weights",
              {"network": "mlp", "loss": "bce", "train": {"epochs": 60, "lr": 1e-3}}),
    ModelSpec("dsf_mhsa", TorchDense,
              "dual-stream fusion, self-attention over 4 + 4 learned stream tokens, ASL",
              {"network": "dsf_mhsa", "loss": "asl", "train": {"epochs": 60, "lr": 5e-4}}),
    ModelSpec("dsf_cross_attention", TorchDense,
              "dual-stream fusion, title tokens attend to body tokens; ASL (4, 1), manifold "
              "mixup, OneCycleLR",
              {"network": "dsf_cross_attention", "loss": "asl",
               "train": {"epochs": 40, "lr": 1e-3, "scheduler": "onecycle",
                         "mixup_alpha": 0.4, "patience": 10}}),
    ModelSpec("sequence_dsf", SequenceModel,
              "Conv1d + self-attention over 32 body segments, title segments cross-attend; "
              "focal loss with label smoothing",
              {"loss": "focal", "train": {"epochs": 40, "lr": 5e-4, "batch_size": 64}}),
    ModelSpec("hierarchical", Hierarchical,
              "cluster head and tag head on one trunk; tag score = p(cluster) x p(tag)",
              {"train": {"epochs": 60, "lr": 1e-3}}),
    ModelSpec("knn_votes", KnnVotes,
              "the tags of the 25 nearest training questions (cosine of the vectors), votes "
              "weighted by similarity^4", {"k": 25, "power": 4.0}),
    ModelSpec("hybrid", HybridFusion,
              "sparse + dense: TF-IDF, MLP and nearest-neighbour scores, the tags the "
              "question names, label rank and prior, stacked by a logistic regression over "
              "(question, label) pairs fitted on out-of-fold training scores, tags then clusters",
              {"sparse": {"C": 4.0},
               "dense": {"network": "mlp", "loss": "bce", "train": {"epochs": 60, "lr": 1e-3}},
               "neighbours": {"k": 25, "power": 4.0},
               "stacker_questions": 8000, "stacker_folds": 3}),
    ModelSpec("embedding_bag", EmbeddingBagModel,
              "nn.EmbeddingBag over hashed word and bigram ids (2^17 buckets), class-weighted "
              "BCE, early stopping, gradient clipping",
              {"buckets": 2**17, "dim": 64,
               "train": {"epochs": 40, "lr": 2e-2, "batch_size": 128, "patience": 4,
                         "weight_decay": 0.0}}),
    ModelSpec("recurrent", RecurrentModel,
              "BiLSTM over title words, BiGRU over the first 120 body words (vocabulary of "
              "the training split), auxiliary title-only output weighted 0.3",
              {"aux_weight": 0.3, "vocabulary": 30_000, "embed": 64, "hidden": 64,
               "body_words": 120,
               "train": {"epochs": 15, "lr": 2e-3, "batch_size": 64, "patience": 4}}),
    ModelSpec("finetuned_encoder", FinetunedEncoder,
              "the default encoder fine-tuned with cluster and tag heads (on the CPU: 64 "
              "tokens, top 2 layers, 2 epochs; with CUDA: 256 tokens, every layer)"),
    ModelSpec("seq2seq_tags", Seq2SeqTagger,
              "T5 decoder (trained here) over the stored segments writes the kept tags, beam "
              "search over valid tags",
              {"target": "tags", "beams": 8, "max_tags": 5,
               "train": {"epochs": 20, "lr": 1e-3, "batch_size": 64, "patience": 3}}),
    ModelSpec("seq2seq_paths", Seq2SeqTagger,
              "T5 decoder writes each tag's tag-tree path code; constrained beam search keeps "
              "to valid paths, mapped back to tags",
              {"target": "paths", "beams": 8, "max_tags": 5,
               "train": {"epochs": 20, "lr": 1e-3, "batch_size": 64, "patience": 3}}),
)
SCORE_TRAIN = {"epochs": 80, "lr": 1e-3, "patience": 10}
SCORE_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("mean_baseline", MeanBaseline,
              "the training mean of the target for every question (what the others must beat)"),
    ModelSpec("tfidf_svd_ridge", TfidfSvdRidge,
              "TF-IDF of title and body, truncated SVD (256), posting-time features, ridge",
              {"components": 256, "alpha": 10.0}),
    ModelSpec("tabular_ridge", TabularRidge,
              "ridge on the posting-time features alone (no text vectors), penalty chosen by "
              "cross-validation"),
    ModelSpec("title_mlp", TorchRegressor,
              "MLP on the title vector and the posting-time features, early stopping",
              {"network": "mlp", "streams": ["title"], "train": SCORE_TRAIN}),
    ModelSpec("body_mlp", TorchRegressor,
              "MLP on the body vector and the posting-time features, early stopping",
              {"network": "mlp", "streams": ["body"], "train": SCORE_TRAIN}),
    ModelSpec("dsf_cross_attention", TorchRegressor,
              "dual-stream fusion regressor: title tokens attend to body tokens, features "
              "joined before the head",
              {"network": "dsf_cross_attention", "train": {**SCORE_TRAIN, "lr": 5e-4}}),
    ModelSpec("dsf_mhsa", TorchRegressor,
              "dual-stream fusion regressor: self-attention over title and body tokens",
              {"network": "dsf_mhsa", "train": {**SCORE_TRAIN, "lr": 5e-4}}),
    ModelSpec("huber_mlp", TorchRegressor,
              "MLP on title, body and features with a Huber loss: the heavy tail's outliers "
              "weigh linearly, not quadratically",
              {"network": "mlp", "loss": "huber", "huber_delta": 0.5, "train": SCORE_TRAIN}),
    ModelSpec("xgboost", XGBoostRegressor,
              "XGBoost (hist, CUDA when present) on the vectors and the posting-time features"),
    ModelSpec("xgboost_quantile", XGBoostRegressor,
              "XGBoost quantile regression (10 / 50 / 90 %): the median and an 80 % interval",
              {"quantiles": True}),
)
MODELS: tuple[ModelSpec, ...] = TAG_MODELS + SCORE_MODELS
BY_ASSET_NAME = {spec.asset_name: spec for spec in MODELS}


BASELINES: dict[type[Model], type[Model]] = {TagModel: MostFrequentBaseline,
                                             ScoreModel: MeanBaseline}
"""Each task's naive model, which every model of the task must beat."""


def baseline_for(model: type[Model], labels: LabelSpace, params: dict | None = None) -> Model:
    """The (unfitted) naive model of ``model``'s task; a score baseline learns the same
    target as ``params`` says."""
    for task, baseline in BASELINES.items():
        if issubclass(model, task):
            return baseline(labels, {k: v for k, v in (params or {}).items() if k == "target"})
    raise ValueError(f"{model.__name__} belongs to no task with a baseline")


def is_baseline(spec: ModelSpec) -> bool:
    """Whether ``spec`` is its task's baseline itself (it has nothing to beat)."""
    return spec.model in BASELINES.values()


def _named(specs: tuple[ModelSpec, ...], name: str, task: str) -> ModelSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    raise ValueError(f"no {task} model {name!r}; registered: {[s.name for s in specs]}")


def tag_model(name: str) -> ModelSpec:
    """A registered tag model by its short name; an error lists the names."""
    return _named(TAG_MODELS, name, "tag")


def score_model(name: str) -> ModelSpec:
    """A registered score model by its short name; an error lists the names."""
    return _named(SCORE_MODELS, name, "score")


def load_model(directory: Path) -> Model:
    """A saved model, from its artifacts only (the class is the family it was saved as)."""
    meta = json.loads((directory / "predictor.json").read_text())
    family = FAMILIES.get(meta["family"])
    if family is None:
        raise ValueError(f"{directory}: saved by an unknown family {meta['family']!r}")
    return family.restore(directory, meta)
