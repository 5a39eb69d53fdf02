"""The final states of a bidirectional LSTM or GRU over right-padded sequences, without packing.

``pack_padded_sequence`` gives each sequence's true final states, but on the CPU its backward
pass slices the packed input once per time step, and each slice's gradient is a zero-filled
tensor of the whole input: quadratic in the length. At biology's shape (64 questions, 120 body
words) that fill was 79 % of a training step of ``recurrent``. Here each direction runs over the
plain padded batch instead (the fused oneDNN kernel on the CPU): the forward direction's state
at each sequence's last word is its final state, and the backward direction runs forward over
each sequence with its words reversed in place (padding still at the end). The result equals
packing's to float rounding; the parameters are the module's own, so saved weights load as
before."""

from __future__ import annotations

import torch
from torch import nn

REVERSE = "_reverse"


def final_states(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """[n, 2 * hidden]: the forward and backward directions' final hidden states of a
    one-layer, bidirectional, batch-first ``rnn`` over ``x`` [n, T, d], sequence i being
    ``x[i, :lengths[i]]`` (lengths >= 1; what follows it is never read)."""
    if rnn.num_layers != 1 or not rnn.bidirectional or not rnn.batch_first:
        raise ValueError("final_states takes a one-layer, bidirectional, batch-first RNN")
    lengths = lengths.to(x.device).clamp(min=1, max=x.shape[1])
    x = x[:, : int(lengths.max())]  # columns that are padding for the whole batch
    last = lengths - 1
    steps = torch.arange(x.shape[1], device=x.device)
    reversed_order = (last[:, None] - steps[None]).clamp(min=0)  # t -> length - 1 - t
    x_reversed = x.gather(1, reversed_order[..., None].expand(-1, -1, x.shape[2]))
    at_last = last[:, None, None].expand(-1, 1, rnn.hidden_size)
    return torch.cat([_one_direction(rnn, x, "").gather(1, at_last)[:, 0],
                      _one_direction(rnn, x_reversed, REVERSE).gather(1, at_last)[:, 0]], dim=1)


def _one_direction(rnn: nn.RNNBase, x: torch.Tensor, suffix: str) -> torch.Tensor:
    """The outputs [n, T, hidden] of one direction of ``rnn`` run forward over ``x``: a
    parameter-free one-direction module of the same kind (on the meta device) called with that
    direction's parameters."""
    template = type(rnn)(rnn.input_size, rnn.hidden_size, bias=rnn.bias, batch_first=True,
                         device="meta")
    weights = {name.removesuffix(suffix): p for name, p in rnn.named_parameters()
               if name.endswith(REVERSE) == bool(suffix)}
    output, _ = torch.func.functional_call(template, weights, (x,))
    return output
