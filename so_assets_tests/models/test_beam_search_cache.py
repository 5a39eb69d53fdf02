"""The beam-search cache that leaves the cross-attention cache in place writes exactly what the
library's own cache writes."""

import pytest
import torch


@pytest.mark.parametrize("beams", [4, 8])
def test_beam_search_with_the_shared_encoder_cache_equals_the_librarys(beams):
    from transformers import T5Config

    from so_assets.models.tags.seq2seq import beam_search_cache
    from so_assets.models.training.networks import SegmentSeq2Seq

    torch.manual_seed(0)
    config = T5Config(d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
                      num_decoder_layers=2, vocab_size=40, pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0, dropout_rate=0.0)
    network = SegmentSeq2Seq(12, config).eval()
    n = 6
    inputs = (torch.randn(n, 4, 12), torch.ones(n, 4, dtype=torch.bool),
              torch.randn(n, 7, 12), torch.rand(n, 7) < 0.7)
    search = {"num_beams": beams, "num_return_sequences": beams, "length_penalty": 0.0,
              "early_stopping": True, "do_sample": False, "max_new_tokens": 9,
              "output_scores": True, "return_dict_in_generate": True}
    with torch.inference_mode():
        library = network.generate(*inputs, **search)
        shared = network.generate(*inputs, **search, cache=beam_search_cache())
    assert torch.equal(library.sequences, shared.sequences)
    torch.testing.assert_close(library.sequences_scores, shared.sequences_scores)
    # the search did move beams between steps, so the decoder's own cache was reordered
    assert len({tuple(s.tolist()) for s in library.sequences[:beams]}) > 1
