"""Shared fixtures: the local API server, a fake clock, and the real data in ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from so_assets_tests.api_server import ApiServer

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "real"


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


@pytest.fixture
def api_server():
    with ApiServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
