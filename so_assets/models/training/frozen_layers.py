"""A partly fine-tuned encoder split at its first trained layer: the frozen part's output (the
hidden states entering that layer) computed once per question, and the trained part run on
such states. Works on any Hugging Face encoder whose layers form one ``nn.ModuleList`` (BERT,
Qwen3): hooks on the layers, no copy of the model's forward."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def transformer_layers(encoder: nn.Module) -> nn.ModuleList:
    """The stack of transformer blocks of a Hugging Face encoder (BERT's ``encoder.layer``,
    Qwen's ``layers``): the module list as long as the configured number of layers."""
    count = encoder.config.num_hidden_layers
    for module in encoder.modules():
        if isinstance(module, nn.ModuleList) and len(module) == count:
            return module
    raise ValueError(f"{type(encoder).__name__}: no list of {count} transformer layers found")


class _Reached(Exception):
    """Raised by the hook on the first trained layer to stop the forward pass there."""

    def __init__(self, states: torch.Tensor) -> None:
        super().__init__()
        self.states = states


def _hidden_states(args: tuple, kwargs: dict) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]


def frozen_output(encoder: nn.Module, first_trainable: int, input_ids: torch.Tensor,
                  attention_mask: torch.Tensor) -> torch.Tensor:
    """The hidden states [n, length, hidden] entering layer ``first_trainable`` (the last
    hidden state when it is past the top layer): what the frozen part of the encoder makes of
    the tokens, the same on every epoch."""
    layers = transformer_layers(encoder)
    if first_trainable >= len(layers):
        return encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def stop(_module, args, kwargs):
        raise _Reached(_hidden_states(args, kwargs))

    handle = layers[first_trainable].register_forward_pre_hook(stop, with_kwargs=True)
    try:
        encoder(input_ids=input_ids, attention_mask=attention_mask)
    except _Reached as reached:
        return reached.states
    finally:
        handle.remove()
    raise RuntimeError(f"{type(encoder).__name__} never called its layer {first_trainable}")


class _PassThrough(nn.Module):
    """A skipped layer: returns the hidden states it was given."""

    def forward(self, *args, **kwargs):
        return _hidden_states(args, kwargs)


@contextmanager
def _lower_layers_skipped(layers: nn.ModuleList, first_trainable: int) -> Iterator[None]:
    """The layers below ``first_trainable`` replaced by pass-throughs, then put back (the
    list keeps its length, so per-layer settings stay aligned)."""
    lower = list(layers[:first_trainable])
    for i in range(first_trainable):
        layers[i] = _PassThrough()
    try:
        yield
    finally:
        for i, layer in enumerate(lower):
            layers[i] = layer


def top_output(encoder: nn.Module, first_trainable: int, states: torch.Tensor,
               attention_mask: torch.Tensor) -> torch.Tensor:
    """The encoder's last hidden state from :func:`frozen_output`'s ``states``: only layers
    ``first_trainable`` and up run (and the encoder's final norm, if it has one)."""
    layers = transformer_layers(encoder)
    if first_trainable >= len(layers):
        return states

    def swap_in(_module, args, kwargs):
        if args:
            return (states, *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": states}

    handle = layers[first_trainable].register_forward_pre_hook(swap_in, with_kwargs=True)
    try:
        with _lower_layers_skipped(layers, first_trainable):
            # inputs_embeds only carries the shape, dtype and device the encoder builds its
            # masks and positions from; the hook puts the stored states in its place
            return encoder(inputs_embeds=states,
                           attention_mask=attention_mask).last_hidden_state
    finally:
        handle.remove()
