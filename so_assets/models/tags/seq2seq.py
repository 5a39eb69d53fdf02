"""A generator of tags: a T5 encoder-decoder writes a question's kept tags (``seq2seq_tags``)
or their paths in the tag tree (``seq2seq_paths``), decoding only valid sequences.

No pretrained T5 can be downloaded here, so by default the encoder reads the stored token
segments (4 title + 32 body vectors of the pretrained sentence encoder, projected to the
model width) and a small T5 is trained from a config. ``params.t5`` (or the environment's
``SO_ASSETS_T5_PATH``) names a local T5 checkpoint instead: it then reads the question's text
through its own tokenizer and writes the tags (or path codes) as text.

Scores come from beam search: a tag's score is the posterior mass of the beams that wrote it
(beam log-probabilities, softmax over the beams), a cluster's the mass of the beams that wrote
any of its tags; thresholds are then tuned on validation like every other model's. Training
runs one cycle of the learning rate over a fixed number of epochs; the epoch kept is picked on
greedy decoding of validation, or on its teacher-forced loss (``epoch_figure``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from so_assets.models.core.base import Need, Scores, TagModel, Target, TrainResult
from so_assets.models.core.data import Inputs, SplitData, TrainingData
from so_assets.models.tags.finetuned import tokenize_pairs
from so_assets.models.tags.tag_codec import TagCodec
from so_assets.models.training.config import SequenceTorchParams, TrainConfig
from so_assets.models.training.torch_model import FloatRows, TorchModel, minibatches
from so_assets.params import Params, param
from so_assets.storage.embedding_kinds import TOKEN_FIELDS

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class T5Size(Params):
    """The small T5 trained here from a config (``transformers.T5Config`` fields)."""

    d_model: int = param(256, "Model width.", ge=8)
    d_ff: int = param(512, "Feed-forward width.", ge=8)
    d_kv: int = param(32, "Width of every attention head.", ge=1)
    num_heads: int = param(8, "Attention heads.", ge=1)
    num_layers: int = param(2, "Encoder layers.", ge=1)
    num_decoder_layers: int = param(2, "Decoder layers.", ge=1)
    dropout_rate: float = param(0.1, "Dropout.", ge=0, le=1)


@dataclass(frozen=True)
class Seq2SeqParams(SequenceTorchParams):
    target: Literal["tags", "paths"] = param("tags", "Write the kept tags, or their tag-tree "
                                                     "path codes.")
    t5: str = param("", "A local T5 checkpoint that reads the question's text (empty: "
                        "$SO_ASSETS_T5_PATH, else the small T5 over the stored segments).")
    t5_config: T5Size = param(T5Size(), "The small T5's size.")
    max_length: int = param(256, "Text tokens a local T5 checkpoint reads.", ge=8)
    beams: int = param(8, "Beams of the constrained beam search.", ge=1)
    max_tags: int = param(5, "Tags written per question at most.", ge=1)
    epoch_signal: Literal["greedy", "loss"] = param(
        "greedy", "What picks the epoch: the micro-F1 of greedily written validation tags "
                  "(gains under the split's noise floor do not count), or the teacher-forced "
                  "loss of their tag sequences (smooth, every fall counts).")
    train: TrainConfig = param(
        TrainConfig(epochs=6, lr=1e-3, batch_size=64, patience=3, scheduler="onecycle"),
        "The training loop's settings: one cycle of the rate (peak 1e-3) over 6 epochs. On "
        "biology's validation, against 20 epochs at a plateau rate stopped by the noise-floor "
        "rule (6 and 9 epochs): seq2seq_tags micro-F1 0.503 -> 0.544, seq2seq_paths 0.538 -> "
        "0.555; the greedy figure under a plateau rate stalled while the beam search's rose, "
        "so the noise-floor rule kept epoch 3 of seq2seq_tags.")


class Seq2SeqTagger(TorchModel, TagModel):
    """A T5 decoder that writes a question's tags (or path codes), scored by beam search."""

    family = "seq2seq"
    needs = frozenset({Need.TOKENS, Need.TREE})
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    score_batch_size = 256
    params_class = Seq2SeqParams
    params: Seq2SeqParams

    @property
    def checkpoint_path(self) -> str:
        return self.params.t5 or os.environ.get("SO_ASSETS_T5_PATH", "")

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        counts = data.train.tags.sum(0)
        self.source = self.checkpoint_path
        if self.source:
            from transformers import AutoTokenizer

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            self.tokenizer = AutoTokenizer.from_pretrained(self.source)
            self.codec = TagCodec.texts(self._item_texts(data), self.tokenizer, counts)
        elif self.params.target == "paths":
            self.codec = TagCodec.tree_paths(self._paths(data), counts)
        else:
            self.codec = TagCodec.single_tokens(self.labels.n_tags, counts)
        if log:
            log.info("%s: %d tags as sequences of at most %d tokens over %d symbols (%s)",
                     self.family, len(self.codec.items), self.codec.longest,
                     self.codec.vocab_size, self.source or "small T5 over the stored segments")
        return super().fit(data, checkpoint=checkpoint, log=log)

    def _paths(self, data: TrainingData) -> list[tuple[int, ...]]:
        if data.tag_paths is None:
            raise ValueError("seq2seq_paths needs the tag tree's paths (tag_tree)")
        return data.tag_paths

    def _item_texts(self, data: TrainingData) -> list[str]:
        if self.params.target == "paths":
            return [".".join(map(str, p)) + f".{i}" for i, p in enumerate(self._paths(data))]
        return list(self.labels.tags)

    def build_network(self, dim: int) -> torch.nn.Module:
        from transformers import AutoConfig, AutoModelForSeq2SeqLM, T5Config

        from so_assets.models.training.networks import SegmentSeq2Seq, TextSeq2Seq

        if self.source:
            if getattr(self, "t5_config", None) is None:  # fitting: the pretrained weights
                return TextSeq2Seq(AutoModelForSeq2SeqLM.from_pretrained(self.source))
            return TextSeq2Seq(AutoModelForSeq2SeqLM.from_config(
                AutoConfig.from_pretrained(self.t5_config)))
        config = T5Config(**self.params.t5_config.to_dict(),
                          vocab_size=self.codec.vocab_size, pad_token_id=self.codec.pad,
                          eos_token_id=self.codec.eos, decoder_start_token_id=self.codec.pad)
        return SegmentSeq2Seq(dim, config)

    def network_inputs(self, inputs: Inputs) -> list[np.ndarray]:
        if self.source:
            return tokenize_pairs(self.tokenizer, inputs.titles, inputs.bodies,
                                  self.params.max_length)
        if inputs.tokens is None:
            raise ValueError(f"{self.family} needs token sequences (question_token_embeddings)")
        return [inputs.tokens[name] for name in TOKEN_FIELDS]

    def training_batches(self, data: TrainingData, config: TrainConfig):
        train = data.train
        if self.source or train.tokens is not None:
            batches = minibatches([*self.network_inputs(train), FloatRows(train.tags)],
                                  config.batch_size, config.seed)
        else:  # stream the training sequences from HDF5, a shuffle buffer at a time
            from so_assets.models.training.sequence_stream import SequenceStream

            stream = SequenceStream(data.vectors, train.question_ids, FloatRows(train.tags),
                                    batch_size=config.batch_size, seed=config.seed,
                                    memory_mb=self.params.stream_memory_mb)
            batches = lambda: (batch[:-1] for batch in stream)  # noqa: E731 (drop row ids)

        def loss_of_batch(network, batch, device):
            *inputs, tags = batch
            return network(*(x.to(device) for x in inputs),
                           labels=self.target_sequences(tags.numpy()).to(device))

        return batches, loss_of_batch

    def target_sequences(self, tags: np.ndarray) -> torch.Tensor:
        """The token sequences the decoder learns to write for rows of the tag matrix,
        -100 after each one's end (ignored by the loss)."""
        import torch

        targets = [self.codec.encode(row, self.params.max_tags) for row in tags]
        labels = torch.full((len(targets), max(map(len, targets), default=1)), -100,
                            dtype=torch.long)
        for i, t in enumerate(targets):
            labels[i, : len(t)] = torch.tensor(t)
        return labels

    def outputs(self, network: torch.nn.Module, batch: list[torch.Tensor]
                ) -> list[torch.Tensor]:
        return self.decode(network, batch, self.params.beams)

    def epoch_figure(self, network: torch.nn.Module, split: SplitData,
                     device: torch.device) -> float:
        """The micro-F1 of greedy decoding (one beam, each written tag scoring 1: a tenth of
        the beam search's cost), or with ``epoch_signal: loss`` minus the validation
        questions' mean loss per target token (teacher forcing: one pass, no decoding). The
        saved model's scores come from the full beam search either way."""
        import torch

        if self.params.epoch_signal == "greedy":
            return self.selection_value(split, self.to_scores(self.score_batches(
                network, split, device, lambda net, batch: self.decode(net, batch, beams=1))))
        arrays = self.network_inputs(split)
        total = tokens = 0.0
        for lo in range(0, len(split), self.score_batch_size):
            labels = self.target_sequences(split.tags[lo: lo + self.score_batch_size].toarray())
            batch = [torch.from_numpy(a[lo: lo + self.score_batch_size]).to(device)
                     for a in arrays]
            n = float((labels != -100).sum())
            total += float(network(*batch, labels=labels.to(device))) * n
            tokens += n
        return -total / max(tokens, 1.0)

    def epoch_figure_name(self, split: SplitData) -> tuple[str, float]:
        if self.params.epoch_signal == "greedy":
            return super().epoch_figure_name(split)
        return "validation -loss", 0.0

    def decode(self, network: torch.nn.Module, batch: list[torch.Tensor], beams: int
               ) -> list[torch.Tensor]:
        """[cluster scores, tag scores] of one batch from a constrained search over ``beams``
        beams (one: greedy decoding, each written tag scoring 1)."""
        import torch

        n = len(batch[0])
        tags = torch.zeros((n, self.labels.n_tags))
        clusters = torch.zeros((n, self.labels.n_clusters))
        if n == 0:
            return [clusters, tags]
        search = {"num_beams": beams, "num_return_sequences": beams, "length_penalty": 0.0,
                  "early_stopping": True, "cache": beam_search_cache()} if beams > 1 else {
            "num_beams": 1}
        out = network.generate(
            *batch, **search, do_sample=False,
            max_new_tokens=self.params.max_tags * self.codec.longest + 1,
            output_scores=True, return_dict_in_generate=True,
            prefix_allowed_tokens_fn=lambda _, written: self.codec.allowed(
                written[1:].tolist()))
        if beams > 1:
            weights = torch.softmax(out.sequences_scores.float().view(n, beams), dim=1)
        else:
            weights = torch.ones((n, 1))
        sequences = out.sequences.view(n, beams, -1)[:, :, 1:].cpu().numpy()
        cluster_of = self.labels.tag_cluster
        for i in range(n):
            for b in range(beams):
                written = set(self.codec.split(sequences[i, b])[0])
                tags[i, list(written)] += weights[i, b].item()
                clusters[i, list({cluster_of[t] for t in written})] += weights[i, b].item()
        return [clusters.clamp(max=1.0), tags.clamp(max=1.0)]

    def to_scores(self, outputs: list[np.ndarray]) -> Scores:
        return Scores(clusters=outputs[0], tags=outputs[1])


    def save_state(self, directory: Path) -> None:
        (directory / "codec.json").write_text(json.dumps(
            {"items": self.codec.items, "vocab_size": self.codec.vocab_size,
             "pad": self.codec.pad, "eos": self.codec.eos, "order": self.codec.order,
             "source": self.source}))
        if self.source:
            self.tokenizer.save_pretrained(directory / "t5")
            self.network.t5.config.save_pretrained(directory / "t5")
        super().save_state(directory)

    def load_state(self, directory: Path) -> None:
        saved = json.loads((directory / "codec.json").read_text())
        self.source = saved.pop("source")
        self.codec = TagCodec([tuple(i) for i in saved.pop("items")], **saved)
        if self.source:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(directory / "t5")
            self.t5_config = directory / "t5"
        super().load_state(directory)


def beam_search_cache():
    """A decoder cache for beam search that reorders only the decoder's own keys and values.

    A question's beams all attend to copies of its one encoder output, and beam search only
    moves beams within their question, so reordering the cross-attention cache (what the
    library does every step) copies it onto itself: on biology's validation split that copy
    was a third of ``seq2seq_paths``' 8-beam search (33 -> 21 s of CPU, the same scores)."""
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    class SharedEncoderBeamCache(EncoderDecoderCache):
        def reorder_cache(self, beam_idx) -> None:
            self.self_attention_cache.reorder_cache(beam_idx)

    return SharedEncoderBeamCache(DynamicCache(), DynamicCache())
