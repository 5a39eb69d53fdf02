"""The transformer itself trained end to end: the default encoder (or any configured local
encoder) with a cluster head and a kept-tag head, fine-tuned on the question texts."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from so_assets.models.base import TrainResult
from so_assets.models.data import Inputs, TrainingData
from so_assets.models.two_heads import ClusterTagModel

if TYPE_CHECKING:
    import torch

CPU_DEFAULTS = {"max_length": 64, "trainable_layers": 2,
                "train": {"epochs": 2, "lr": 1e-4, "batch_size": 16, "accumulate": 2,
                          "scheduler": "onecycle", "patience": 1, "weight_decay": 0.01}}
"""Without a GPU: 64 tokens (the title and the start of the body) and only the top two
transformer layers trained, so an epoch costs the lower layers' forward pass only; on robotics
(2,216 training questions) an epoch takes about a quarter of full fine-tuning's 264 s."""
GPU_DEFAULTS = {"max_length": 256, "trainable_layers": None,
                "train": {"epochs": 4, "lr": 5e-5, "batch_size": 32, "accumulate": 1,
                          "scheduler": "onecycle", "patience": 1, "weight_decay": 0.01}}
"""With CUDA: every layer, 256 tokens, four epochs, bf16 autocast."""


def device_defaults() -> dict:
    """The defaults for the device training will run on."""
    import torch

    return GPU_DEFAULTS if torch.cuda.is_available() else CPU_DEFAULTS


def encoder_path(configured: str) -> str:
    """A configured local path or model id, else the packaged all-MiniLM-L6-v2."""
    from so_assets.embedding.config import default_model_path

    return configured or default_model_path()


def tokenize_pairs(tokenizer, titles: list[str], bodies: list[str], max_length: int
                   ) -> list[np.ndarray]:
    """[input_ids, attention_mask], each [n, max_length] int64: the title, then as much of the
    body as fits."""
    if not titles:
        empty = np.zeros((0, max_length), dtype=np.int64)
        return [empty, empty.copy()]
    encoded = tokenizer([t or " " for t in titles], [b or " " for b in bodies],
                        truncation="longest_first", max_length=max_length,
                        padding="max_length", return_tensors="np")
    return [encoded["input_ids"].astype(np.int64), encoded["attention_mask"].astype(np.int64)]


class FinetunedEncoder(ClusterTagModel):
    """``params``: ``encoder`` (path; empty = the default), ``pooling`` (mean or last_token),
    ``max_length``, ``trainable_layers`` (the top layers fine-tuned; None: all, embeddings
    included), ``head_lr_scale`` (the heads learn this many times faster than the pretrained
    layers) and ``train`` (epochs, lr, batch_size, accumulate; bf16 on CUDA). What is not given
    takes the defaults of the device it trains on (:data:`CPU_DEFAULTS`, :data:`GPU_DEFAULTS`);
    the values used are saved with the model."""

    family = "finetuned_encoder"
    score_batch_size = 64

    def train_config(self):
        from so_assets.models.torch_loop import TrainConfig

        return TrainConfig(**self.params["train"])

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from transformers import AutoConfig, AutoTokenizer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        defaults = device_defaults()
        self.params = {**defaults, **self.params,
                       "train": {**defaults["train"], **self.params.get("train", {})}}
        source = encoder_path(self.params.get("encoder", ""))
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.encoder_config = AutoConfig.from_pretrained(source)
        self.pretrained = source
        if log:
            layers = self.params["trainable_layers"]
            log.info("finetuned_encoder: fine-tuning %s (%s) on %d questions, max %d tokens",
                     source, "every layer" if layers is None else f"top {layers} layers",
                     len(data.train), self.max_length)
        return super().fit(data, checkpoint=checkpoint, log=log)

    @property
    def max_length(self) -> int:
        return int(self.params["max_length"])

    def build_network(self, dim: int) -> torch.nn.Module:
        from transformers import AutoModel

        from so_assets.models.networks import EncoderClassifier

        if self.pretrained:  # fitting: start from the pretrained weights
            encoder = AutoModel.from_pretrained(self.pretrained, dtype="float32")
        else:  # loading: the architecture only; the weights come from model.pt
            encoder = AutoModel.from_config(self.encoder_config)
        network = EncoderClassifier(encoder, self.labels.n_clusters, self.labels.n_tags,
                                    pooling=self.params.get("pooling", "mean"),
                                    head_lr_scale=self.params.get("head_lr_scale", 20.0))
        network.train_top_layers(self.params.get("trainable_layers"))
        return network

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        return tokenize_pairs(self.tokenizer, inputs.titles, inputs.bodies, self.max_length)

    def save_state(self, directory: Path) -> None:
        self.tokenizer.save_pretrained(directory / "encoder")
        self.encoder_config.save_pretrained(directory / "encoder")
        super().save_state(directory)

    def load_state(self, directory: Path) -> None:
        from transformers import AutoConfig, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(directory / "encoder")
        self.encoder_config = AutoConfig.from_pretrained(directory / "encoder")
        self.pretrained = ""
        super().load_state(directory)
