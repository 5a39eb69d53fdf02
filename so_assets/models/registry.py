"""The model registry: adding a model is one :class:`ModelSpec` here (and, for a new family,
one class). Each spec becomes the asset ``<task>_model_<name>`` with its baseline check; its
class's attributes say what it needs and predicts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from so_assets.models.core.base import Model, ScoreModel, ScoreParams, TagModel, Target
from so_assets.models.core.data import LabelSpace
from so_assets.models.publication.shared_parts import refuse_pickles
from so_assets.models.scores.baseline import MeanBaseline
from so_assets.models.scores.boosted import XGBoostRegressor, XGBoostRegressorParams
from so_assets.models.scores.linear import TabularRidge, TfidfSvdRidge
from so_assets.models.scores.regressor import TorchRegressor, TorchRegressorParams
from so_assets.models.tags.baseline import MostFrequentBaseline
from so_assets.models.tags.boosted import XGBoostMulticlass
from so_assets.models.tags.dense import Hierarchical, TorchDense, TorchDenseParams
from so_assets.models.tags.dual_encoder import DualEncoderModel
from so_assets.models.tags.finetuned import FinetunedEncoder
from so_assets.models.tags.hybrid import HybridFusion
from so_assets.models.tags.linear import TfidfLinear
from so_assets.models.tags.neighbours import KnnVotes
from so_assets.models.tags.seq2seq import Seq2SeqParams, Seq2SeqTagger
from so_assets.models.tags.sequence import SequenceModel
from so_assets.models.tags.word_models import EmbeddingBagModel, RecurrentModel
from so_assets.models.training.config import TrainConfig
from so_assets.params import Params

FAMILIES: dict[str, type[Model]] = {cls.family: cls for cls in (
    TfidfLinear, XGBoostMulticlass, DualEncoderModel, TorchDense, SequenceModel, Hierarchical,
    HybridFusion, MostFrequentBaseline, MeanBaseline, TfidfSvdRidge, TorchRegressor,
    XGBoostRegressor, TabularRidge, KnnVotes, EmbeddingBagModel, RecurrentModel, FinetunedEncoder,
    Seq2SeqTagger)}


@dataclass(frozen=True)
class ModelSpec:
    """One registered model: its name, class and parameters (an instance of its family's
    parameter class, or a mapping checked against it: an unknown or ill-typed key is an
    error naming it)."""

    name: str
    model: type[Model]
    description: str
    params: Params | Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, self.model.params_class):
            if not isinstance(self.params, Mapping):
                raise TypeError(f"model {self.name!r}: params must be "
                                f"{self.model.params_class.__name__} or a mapping")
            try:
                checked = self.model.params_class.from_dict(self.params)
            except ValueError as error:
                raise ValueError(f"model {self.name!r}: {error}") from None
            object.__setattr__(self, "params", checked)

    @property
    def task(self) -> str:
        return "score" if Target.SCORE in self.model.predicts else "tag"

    @property
    def asset_name(self) -> str:
        """The asset's name, which is also its folder under ``data/models/``."""
        return f"{self.task}_model_{self.name}"

    def with_params(self, changes: Mapping[str, Any]) -> ModelSpec:
        """This spec with some parameters changed (checked like the registry's own)."""
        try:
            return replace(self, params=self.params.with_values(changes))
        except ValueError as error:
            raise ValueError(f"model {self.name!r}: {error}") from None

    def build(self, labels: LabelSpace) -> Model:
        return self.model(labels, self.params)


TAG_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("tfidf_linear", TfidfLinear,
              "one-vs-rest logistic regression on TF-IDF of title and body (baseline)"),
    ModelSpec("xgboost", XGBoostMulticlass,
              "XGBoost multiclass on the majority-vote cluster, title + body vectors"),
    ModelSpec("dual_encoder", DualEncoderModel,
              "no training: cosine of the question to cluster means and tag vectors"),
    ModelSpec("mlp", TorchDense, "MLP on [title, body] vectors, BCE with class weights"),
    ModelSpec("dsf_mhsa", TorchDense,
              "dual-stream fusion, self-attention over 4 + 4 learned stream tokens, ASL",
              TorchDenseParams(network="dsf_mhsa", loss="asl", hidden=256,
                               train=TrainConfig(epochs=60, lr=5e-4))),
    ModelSpec("dsf_cross_attention", TorchDense,
              "dual-stream fusion, title tokens attend to body tokens; ASL (4, 1), manifold "
              "mixup, OneCycleLR",
              TorchDenseParams(network="dsf_cross_attention", loss="asl", hidden=256,
                               train=TrainConfig(epochs=40, scheduler="onecycle",
                                                 mixup_alpha=0.4, patience=10))),
    ModelSpec("sequence_dsf", SequenceModel,
              "Conv1d + self-attention over 32 body segments, title segments cross-attend; "
              "focal loss with label smoothing"),
    ModelSpec("hierarchical", Hierarchical,
              "cluster head and tag head on one trunk; tag score = p(cluster) x p(tag)"),
    ModelSpec("knn_votes", KnnVotes,
              "the tags of the 25 nearest training questions (cosine of the vectors), votes "
              "weighted by similarity^4"),
    ModelSpec("hybrid", HybridFusion,
              "sparse + dense: TF-IDF, MLP and nearest-neighbour scores, the tags the "
              "question names, label rank and prior, stacked by a logistic regression over "
              "(question, label) pairs fitted on out-of-fold training scores, tags then "
              "clusters"),
    ModelSpec("embedding_bag", EmbeddingBagModel,
              "nn.EmbeddingBag over hashed word and bigram ids (2^17 buckets), class-weighted "
              "BCE, early stopping, gradient clipping"),
    ModelSpec("recurrent", RecurrentModel,
              "BiLSTM over title words, BiGRU over the first 120 body words (vocabulary of "
              "the training split), auxiliary title-only output weighted 0.3"),
    ModelSpec("finetuned_encoder", FinetunedEncoder,
              "the default encoder fine-tuned with cluster and tag heads (on the CPU: 64 "
              "tokens, top 2 layers, 2 epochs; with CUDA: 256 tokens, every layer)"),
    ModelSpec("seq2seq_tags", Seq2SeqTagger,
              "T5 decoder (trained here) over the stored segments writes the kept tags, beam "
              "search over valid tags"),
    ModelSpec("seq2seq_paths", Seq2SeqTagger,
              "T5 decoder writes each tag's tag-tree path code; constrained beam search keeps "
              "to valid paths, mapped back to tags", Seq2SeqParams(target="paths")),
)
SCORE_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("mean_baseline", MeanBaseline,
              "the training mean of the target for every question (what the others must beat)"),
    ModelSpec("tfidf_svd_ridge", TfidfSvdRidge,
              "TF-IDF of title and body, truncated SVD (256), posting-time features, ridge"),
    ModelSpec("tabular_ridge", TabularRidge,
              "ridge on the posting-time features alone (no text vectors), penalty chosen by "
              "cross-validation"),
    ModelSpec("title_mlp", TorchRegressor,
              "MLP on the title vector and the posting-time features, early stopping",
              TorchRegressorParams(streams=("title",))),
    ModelSpec("body_mlp", TorchRegressor,
              "MLP on the body vector and the posting-time features, early stopping",
              TorchRegressorParams(streams=("body",))),
    ModelSpec("dsf_cross_attention", TorchRegressor,
              "dual-stream fusion regressor: title tokens attend to body tokens, features "
              "joined before the head",
              TorchRegressorParams(network="dsf_cross_attention", hidden=128,
                                   train=TrainConfig(epochs=80, lr=5e-4, patience=10))),
    ModelSpec("dsf_mhsa", TorchRegressor,
              "dual-stream fusion regressor: self-attention over title and body tokens",
              TorchRegressorParams(network="dsf_mhsa", hidden=128,
                                   train=TrainConfig(epochs=80, lr=5e-4, patience=10))),
    ModelSpec("huber_mlp", TorchRegressor,
              "MLP on title, body and features with a Huber loss: the heavy tail's outliers "
              "weigh linearly, not quadratically",
              TorchRegressorParams(loss="huber", huber_delta=0.5)),
    ModelSpec("xgboost", XGBoostRegressor,
              "XGBoost (hist, CUDA when present) on the vectors and the posting-time features"),
    ModelSpec("xgboost_quantile", XGBoostRegressor,
              "XGBoost quantile regression (10 / 50 / 90 %): the median and an 80 % interval",
              XGBoostRegressorParams(quantiles=True)),
)
MODELS: tuple[ModelSpec, ...] = TAG_MODELS + SCORE_MODELS
BY_ASSET_NAME = {spec.asset_name: spec for spec in MODELS}


BASELINES: dict[type[Model], type[Model]] = {TagModel: MostFrequentBaseline,
                                             ScoreModel: MeanBaseline}
"""Each task's naive model, which every model of the task must beat."""


def baseline_for(model: type[Model], labels: LabelSpace, params: Params | None = None
                 ) -> Model:
    """The (unfitted) naive model of ``model``'s task; a score baseline learns the same
    target as ``params`` says."""
    for task, baseline in BASELINES.items():
        if issubclass(model, task):
            return baseline(labels, ScoreParams(target=params.target)
                            if isinstance(params, ScoreParams) else None)
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


def saved_labels(directory: Path) -> LabelSpace:
    """The label space the model saved in ``directory`` was trained on, read without loading
    its weights."""
    return LabelSpace.from_json(json.loads((directory / "predictor.json").read_text())["labels"])


def load_model(directory: Path) -> Model:
    """A saved model, from its artifacts only (the class is the family it was saved as); a
    folder holding a pickle is refused (:func:`refuse_pickles`)."""
    refuse_pickles(directory)
    meta = json.loads((directory / "predictor.json").read_text())
    family = FAMILIES.get(meta["family"])
    if family is None:
        raise ValueError(f"{directory}: saved by an unknown family {meta['family']!r}")
    return family.restore(directory, meta)
