"""Where torch work runs: CUDA when present, else the CPU."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when present (or asked for), else CPU."""
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


@contextmanager
def cpu_threads(threads: int) -> Iterator[None]:
    """torch's CPU compute threads set to ``threads`` inside the block and restored after (0:
    left as they are, every core). One thread suits networks whose matrices are too small for
    a second core to shorten a step: it then only doubles the CPU time."""
    if threads <= 0:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware: Intel AMX (``amx_bf16`` in
    /proc/cpuinfo; MiniLM encodes about 3x the texts per second in bf16 as in float32) or
    AVX-512 BF16 (``avx512_bf16``, as on AMD Zen 4: 1.8x the tokens per core), with vectors
    within 1e-4 cosine of float32's either way. False where the flags cannot be read."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return False
    return bool(flags & {"amx_bf16", "avx512_bf16"})
