"""Final states of a bidirectional LSTM or GRU without packing: the same states and gradients
as pack_padded_sequence gives, over sequences of every length, and the same parameters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from so_assets.models.training.recurrent_states import final_states


def packed_final_states(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor
                        ) -> torch.Tensor:
    """The reference: both directions' final states as packing gives them."""
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                               enforce_sorted=False)
    _, state = rnn(packed)
    last = state[0] if isinstance(state, tuple) else state
    return torch.cat([last[-2], last[-1]], dim=1)


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
def test_final_states_equal_packings_states_and_gradients(kind):
    torch.manual_seed(0)
    rnn = kind(8, 6, batch_first=True, bidirectional=True)
    lengths = torch.tensor([1, 2, 7, 11, 11, 4, 9, 3])  # none spans all 14 columns
    x = torch.randn(len(lengths), 14, 8)
    x[torch.arange(14)[None] >= lengths[:, None]] = 99.0  # padding is never read
    ours_input, theirs_input = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = final_states(rnn, ours_input, lengths)
    ours.pow(2).sum().backward()
    ours_grads = {n: p.grad.clone() for n, p in rnn.named_parameters()}
    rnn.zero_grad()
    theirs = packed_final_states(rnn, theirs_input, lengths)
    theirs.pow(2).sum().backward()
    assert ours.shape == (len(lengths), 12)
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ours_input.grad, theirs_input.grad, atol=1e-6, rtol=1e-5)
    for name, p in rnn.named_parameters():  # both directions learn as they did
        torch.testing.assert_close(ours_grads[name], p.grad, atol=1e-5, rtol=1e-4)


def test_final_states_refuse_what_they_do_not_compute():
    with pytest.raises(ValueError, match="one-layer, bidirectional"):
        final_states(nn.GRU(4, 4, batch_first=True), torch.zeros(2, 3, 4), torch.tensor([3, 1]))
