import torch

from so_assets.embedding.pooling import last_token_pool, mean_pool, segment_mean_pool


def states_for(lengths, width, dim=2, left=False):
    states = torch.zeros(len(lengths), width, dim)
    mask = torch.zeros(len(lengths), width, dtype=torch.bool)
    for row, n in enumerate(lengths):
        cols = range(width - n, width) if left else range(n)
        for k, col in enumerate(cols):
            states[row, col] = torch.tensor([float(k), 1.0])
            mask[row, col] = True
    return states, mask


def test_segments_are_contiguous_near_equal_chunks():
    states, mask = states_for([8], 8)
    pooled, present = segment_mean_pool(states, mask, 4)
    assert pooled[0, :, 0].tolist() == [0.5, 2.5, 4.5, 6.5]  # tokens (0,1) (2,3) (4,5) (6,7)
    assert present.all()


def test_short_texts_fill_one_token_per_segment_and_mask_the_rest():
    states, mask = states_for([2], 5)
    pooled, present = segment_mean_pool(states, mask, 4)
    assert present[0].tolist() == [True, True, False, False]
    assert pooled[0, :2, 0].tolist() == [0.0, 1.0]
    assert pooled[0, 2:].abs().sum() == 0


def test_left_and_right_padding_give_the_same_segments():
    right = segment_mean_pool(*states_for([7, 3], 9), 4)
    left = segment_mean_pool(*states_for([7, 3], 9, left=True), 4)
    assert torch.equal(right[0], left[0]) and torch.equal(right[1], left[1])


def test_last_token_pool_handles_both_paddings():
    for left in (False, True):
        states, mask = states_for([4, 2], 6, left=left)
        assert last_token_pool(states, mask)[:, 0].tolist() == [3.0, 1.0]


def test_mean_pool_ignores_padding():
    states, mask = states_for([4, 2], 6)
    assert mean_pool(states, mask)[:, 0].tolist() == [1.5, 0.5]
