"""The transformer itself trained end to end: the default encoder (or any configured local
encoder) with a cluster head and a kept-tag head, fine-tuned on the question texts."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from so_assets.models.core.base import TrainResult
from so_assets.models.core.data import Inputs, TrainingData
from so_assets.models.tags.two_heads import ClusterTagModel, ClusterTagParams
from so_assets.models.training.config import TrainConfig
from so_assets.params import param

if TYPE_CHECKING:
    import torch

EVERY_LAYER = -1
"""``trainable_layers`` for fine-tuning every layer, the embeddings included."""


@dataclass(frozen=True)
class FinetunedParams(ClusterTagParams):
    encoder: str = param("", "A local encoder path or model id (empty: the packaged "
                             "all-MiniLM-L6-v2).")
    pooling: Literal["mean", "last_token"] = param("mean", "How token states become the "
                                                           "question's vector.")
    max_length: int | None = param(None, "Tokens of title and body read (unset: 64 on the "
                                         "CPU, 256 with CUDA).", ge=8)
    trainable_layers: int | None = param(
        None, "Top transformer layers fine-tuned, -1 for every layer and the embeddings "
              "(unset: 2 on the CPU, every layer with CUDA).", ge=EVERY_LAYER)
    head_lr_scale: float = param(20.0, "The heads learn this many times faster than the "
                                       "pretrained layers.", gt=0)
    train: TrainConfig | None = param(None, "The training loop's settings (unset: the "
                                            "device's defaults below).")
    frozen_store_mb: int = param(
        2048, "Memory for the frozen layers' output (float16), computed once before training "
              "instead of on every epoch; when the training and validation questions need "
              "more, or at 0, the frozen layers run each epoch.", ge=0)

    def for_device(self, cuda: bool) -> FinetunedParams:
        """Every unset value filled with the defaults of the device training runs on."""
        defaults = GPU_DEFAULTS if cuda else CPU_DEFAULTS
        return replace(self, **{k: v for k, v in vars(defaults).items()
                                if k in ("max_length", "trainable_layers", "train")
                                and getattr(self, k) is None})


CPU_DEFAULTS = FinetunedParams(
    max_length=64, trainable_layers=2,
    train=TrainConfig(epochs=2, lr=1e-4, batch_size=16, accumulate=2, scheduler="onecycle",
                      patience=1, weight_decay=0.01))
"""Without a GPU: 64 tokens (the title and the start of the body) and only the top two
transformer layers trained, so an epoch costs the lower layers' forward pass only; on robotics
(2,216 training questions) an epoch takes about a quarter of full fine-tuning's 264 s."""
GPU_DEFAULTS = FinetunedParams(
    max_length=256, trainable_layers=EVERY_LAYER,
    train=TrainConfig(epochs=4, lr=5e-5, batch_size=32, accumulate=1, scheduler="onecycle",
                      patience=1, weight_decay=0.01))
"""With CUDA: every layer, 256 tokens, four epochs, bf16 autocast."""


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
    """What :class:`FinetunedParams` leaves unset takes the defaults of the device it trains on
    (:data:`CPU_DEFAULTS`, :data:`GPU_DEFAULTS`); the values used are saved with the model."""

    family = "finetuned_encoder"
    score_batch_size = 64
    params_class = FinetunedParams
    params: FinetunedParams
    _frozen_store: list[tuple[Inputs, list[np.ndarray]]] | None = None
    """While fitting with frozen layers: each split's [frozen output, attention mask]."""
    _log: logging.Logger | None = None

    def train_config(self) -> TrainConfig:
        if self.params.train is None:
            raise ValueError("finetuned_encoder: train settings unresolved (fit resolves them "
                             "for the device)")
        return self.params.train

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        from transformers import AutoConfig, AutoTokenizer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch

        self.params = self.params.for_device(torch.cuda.is_available())
        source = encoder_path(self.params.encoder)
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.encoder_config = AutoConfig.from_pretrained(source)
        self.pretrained = source
        if log:
            layers = self.params.trainable_layers
            log.info("finetuned_encoder: fine-tuning %s (%s) on %d questions, max %d tokens",
                     source, "every layer" if layers == EVERY_LAYER else f"top {layers} layers",
                     len(data.train), self.max_length)
        self._log = log
        self._frozen_store = [] if self._stores_frozen_output(data) else None
        try:
            return super().fit(data, checkpoint=checkpoint, log=log)
        finally:
            self._frozen_store = None

    def _stores_frozen_output(self, data: TrainingData) -> bool:
        """Whether the frozen layers' output of the training and validation questions fits
        in ``frozen_store_mb`` (it is stored then); logs the size either way."""
        if self.params.trainable_layers == EVERY_LAYER:
            return False
        questions = len(data.train) + len(data.validation)
        mb = questions * self.max_length * self.encoder_config.hidden_size * 2 / 2 ** 20
        stored = 0 < mb <= self.params.frozen_store_mb
        if self._log:
            self._log.info("finetuned_encoder: the frozen layers' output of %d questions (%.0f "
                           "MB) %s", questions, mb, "computed once" if stored else
                           f"recomputed each epoch (over frozen_store_mb="
                           f"{self.params.frozen_store_mb})")
        return stored

    @property
    def max_length(self) -> int:
        if self.params.max_length is None:
            raise ValueError("finetuned_encoder: max_length unresolved (fit resolves it)")
        return self.params.max_length

    def build_network(self, dim: int) -> torch.nn.Module:
        from transformers import AutoModel

        from so_assets.models.training.networks import EncoderClassifier

        if self.pretrained:  # fitting, or loading a model that kept only its trained layers
            encoder = AutoModel.from_pretrained(self.pretrained, dtype="float32")
        else:  # loading: the architecture only; the weights come from model.pt
            encoder = AutoModel.from_config(self.encoder_config)
        network = EncoderClassifier(encoder, self.labels.n_clusters, self.labels.n_tags,
                                    pooling=self.params.pooling,
                                    head_lr_scale=self.params.head_lr_scale)
        layers = self.params.trainable_layers
        network.train_top_layers(None if layers == EVERY_LAYER else layers)
        return network

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        """[token ids, attention mask]; while fitting with a frozen-output store, [the frozen
        layers' output, attention mask], computed on a split's first use."""
        tokens = tokenize_pairs(self.tokenizer, inputs.titles, inputs.bodies, self.max_length)
        if self._frozen_store is None:
            return tokens
        for split, arrays in self._frozen_store:
            if split is inputs:
                return arrays
        arrays = [self._frozen_output(*tokens), tokens[1]]
        self._frozen_store.append((inputs, arrays))
        return arrays

    def _frozen_output(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The frozen layers' output [n, max_length, hidden] float16, a batch at a time, in
        bf16 autocast where training autocasts (the trained layers' first product reads it in
        bf16 there anyway): on biology's 10,652 training questions 51 -> about 17 s."""
        import torch

        from so_assets.embedding.device import pick_device
        from so_assets.models.training.progress import Progress
        from so_assets.models.training.torch_loop import autocast_bf16

        config = self.train_config()
        device = pick_device(config.device)
        network = self.network.to(device)
        bf16 = autocast_bf16(config, device)
        states = np.zeros((*ids.shape, self.encoder_config.hidden_size), dtype=np.float16)
        progress = Progress(self._log, "finetuned_encoder: frozen layers' output", len(ids),
                            "questions")
        for lo in range(0, len(ids), self.score_batch_size):
            hi = lo + self.score_batch_size
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                batch = network.frozen_states(torch.from_numpy(ids[lo:hi]).to(device),
                                              torch.from_numpy(mask[lo:hi]).to(device))
            states[lo:hi] = batch.float().clamp(-65504, 65504).cpu().numpy()
            progress.step(len(batch))
        return states

    def _frozen(self) -> set[str]:
        return {f"encoder.{name}" for name, p in self.network.encoder.named_parameters()
                if not p.requires_grad}

    def weights_to_save(self) -> dict[str, torch.Tensor]:
        """Only what training changed: the frozen lower layers are the pretrained encoder's,
        read back from it on load (a third of the size with the CPU defaults)."""
        frozen = self._frozen()
        return {k: v for k, v in self.network.state_dict().items() if k not in frozen}

    def weights_rebuilt_on_load(self) -> set[str]:
        return self._frozen()

    def save_state(self, directory: Path) -> None:
        self.tokenizer.save_pretrained(directory / "encoder")
        self.encoder_config.save_pretrained(directory / "encoder")
        (directory / "encoder" / "frozen_layers_from.json").write_text(json.dumps(
            {"encoder": self.params.encoder, "frozen_weights": len(self._frozen()),
             "fingerprint": self._frozen_fingerprint()}))
        super().save_state(directory)

    def _frozen_fingerprint(self) -> float:
        """A checksum of the frozen weights: loading refuses a pretrained encoder whose
        weights differ from the ones this model was trained on."""
        state = self.network.state_dict()
        return float(sum(state[k].double().abs().sum().item() for k in sorted(self._frozen())))

    def load_state(self, directory: Path) -> None:
        from transformers import AutoConfig, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(directory / "encoder")
        self.encoder_config = AutoConfig.from_pretrained(directory / "encoder")
        frozen_from = directory / "encoder" / "frozen_layers_from.json"
        base = json.loads(frozen_from.read_text()) if frozen_from.exists() else {}
        self.pretrained = encoder_path(base["encoder"]) if base.get("frozen_weights") else ""
        try:
            super().load_state(directory)
        except OSError as error:  # transformers' word for a checkpoint it cannot find
            raise FileNotFoundError(
                f"{directory} keeps only its trained layers; the frozen ones come from the "
                f"pretrained encoder {self.pretrained}, which cannot be loaded: {error}"
            ) from error
        if self.pretrained and abs(self._frozen_fingerprint() - base["fingerprint"]) > \
                1e-6 * max(1.0, abs(base["fingerprint"])):
            raise ValueError(f"the pretrained encoder at {self.pretrained} is not the one "
                             f"{directory} was trained on (its frozen weights differ)")
