"""The encoder on the packaged all-MiniLM-L6-v2 and on a tiny random Qwen3 built from a config."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer, Qwen3Config, Qwen3Model

from so_assets.embedding.config import QWEN3_QUERY_INSTRUCTION, EncoderConfig, default_model_path
from so_assets.embedding.device import cpu_has_fast_bf16, pick_device
from so_assets.embedding.encoder import TextEncoder, pick_dtype

TEXTS = ["How do I merge two dataframes in pandas?", "segfault", "",
         "Why does my React component render twice when state changes in useEffect? " * 8,
         "Docker build cache is ignored after COPY"]


def reference_mean_pooling(text: str, max_length: int = 256) -> np.ndarray:
    """sentence-transformers' recipe, one text at a time, straight from transformers."""
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    model = AutoModel.from_pretrained(default_model_path()).eval()
    batch = tokenizer([text], truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        states = model(**batch).last_hidden_state[0]
    vector = states.mean(0).numpy()
    return vector / np.linalg.norm(vector)


@pytest.fixture(scope="module")
def minilm_float32() -> TextEncoder:
    """The default encoder in float32, as the reference recipe computes."""
    return TextEncoder(EncoderConfig(batch_tokens=2048, dtype="float32"))


def test_vectors_are_unit_float32_in_input_order(minilm_float32):
    minilm = minilm_float32
    out = minilm.encode(TEXTS)
    assert out.vectors.dtype == np.float32 and out.vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1, atol=1e-5)
    for i in (0, 3):
        assert np.allclose(out.vectors[i], reference_mean_pooling(TEXTS[i]), atol=1e-5)
    alone = minilm.encode([TEXTS[4]]).vectors[0]
    assert np.allclose(out.vectors[4], alone, atol=1e-5)  # batching does not change a vector


def test_segments_come_from_the_same_pass(minilm):
    out = minilm.encode(TEXTS, segments=4)
    assert out.segments.shape == (len(TEXTS), 4, 384) and out.segment_mask.shape == (5, 4)
    assert out.segment_mask[3].all()
    assert out.segment_mask[2].sum() == 2  # "" is [CLS] [SEP]: two segments, two masked
    present = out.segments[out.segment_mask]
    assert np.allclose(np.linalg.norm(present, axis=1), 1, atol=1e-5)
    assert np.allclose(out.segments[~out.segment_mask], 0)


def test_bf16_vectors_match_float32(minilm_float32):
    """bf16 (the default on CPUs with bf16 matrix units, and on CUDA) moves no vector far."""
    bf16 = TextEncoder(EncoderConfig(batch_tokens=2048, dtype="bfloat16"))
    assert bf16.dtype == torch.bfloat16
    out = bf16.encode(TEXTS, segments=4)
    reference = minilm_float32.encode(TEXTS, segments=4)
    assert out.vectors.dtype == np.float32
    assert (out.vectors * reference.vectors).sum(1).min() > 0.999
    assert (out.segment_mask == reference.segment_mask).all()
    present = reference.segment_mask
    assert (out.segments[present] * reference.segments[present]).sum(1).min() > 0.99


def test_the_slug_changes_with_anything_that_changes_vectors():
    base = EncoderConfig()
    assert base.slug().startswith("all-minilm-l6-v2-mean-")
    assert base.slug() == EncoderConfig(batch_tokens=99, device="cpu").slug()
    assert len({base.slug(), EncoderConfig(max_length=128).slug(),
                EncoderConfig(pooling="last_token").slug(),
                EncoderConfig(query_instruction="q: ").slug()}) == 4


def test_device_and_dtype_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_dtype("auto", torch.device("cuda")) == torch.bfloat16
    assert pick_dtype("auto", torch.device("cpu")) == (
        torch.bfloat16 if cpu_has_fast_bf16() else torch.float32)
    assert pick_dtype("float16", torch.device("cpu")) == torch.float16


@pytest.fixture(scope="module")
def tiny_qwen3(tmp_path_factory) -> str:
    """A randomly initialised two-layer Qwen3 with MiniLM's tokenizer: no download."""
    path = tmp_path_factory.mktemp("tiny-qwen3")
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    config = Qwen3Config(vocab_size=tokenizer.vocab_size, hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         head_dim=16, max_position_embeddings=512,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    Qwen3Model(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_qwen3_path_last_token_left_padding_and_instruction(tiny_qwen3):
    config = replace(EncoderConfig.qwen3(tiny_qwen3, max_length=64), dtype="float32")
    encoder = TextEncoder(config)
    assert encoder.tokenizer.padding_side == "left" and encoder.dimension == 64
    assert encoder.dtype == torch.float32 and encoder.device.type == "cpu"
    batch = encoder.encode(TEXTS, is_query=True)
    singles = np.vstack([encoder.encode([t], is_query=True).vectors for t in TEXTS])
    assert np.allclose(batch.vectors, singles, atol=1e-4)  # left padding keeps the last token
    assert np.allclose(np.linalg.norm(batch.vectors, axis=1), 1, atol=1e-5)
    documents = encoder.encode(TEXTS, is_query=False).vectors
    assert not np.allclose(documents, batch.vectors, atol=1e-3)  # the instruction was applied
    # last-token pooling: the vector is the normalised state of the final real token
    tokens = encoder.tokenizer([QWEN3_QUERY_INSTRUCTION + TEXTS[0]], return_tensors="pt")
    with torch.no_grad():
        state = encoder.model(**tokens).last_hidden_state[0, -1].numpy()
    assert np.allclose(batch.vectors[0], state / np.linalg.norm(state), atol=1e-4)
    # the production dtype (bf16, as on CUDA) runs the same path to nearly the same vectors
    bf16 = TextEncoder(replace(config, dtype="bfloat16")).encode(TEXTS, is_query=True).vectors
    assert (bf16 * batch.vectors).sum(1).min() > 0.99
    assert EncoderConfig.qwen3(tiny_qwen3).slug() != EncoderConfig().slug()
