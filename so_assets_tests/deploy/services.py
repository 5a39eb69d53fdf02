"""The loopback services the deployment tests use (started by scripts/services.sh)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_URL = os.environ.get("SO_ASSETS_TEST_PG", "postgresql://dagster:dagster@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SO_ASSETS_TEST_REDIS", "redis://:so-assets-test@127.0.0.1:6379/7")
REQUIRED = os.environ.get("SO_ASSETS_REQUIRE_SERVICES") == "1"  # set by .ci/run
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error}): start it with `bash scripts/services.sh`"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


def require_chromium() -> None:
    """Skip (or, under .ci/run, fail) when Debian's chromium is missing."""
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed: run `bash scripts/services.sh`"
        pytest.fail(message) if REQUIRED else pytest.skip(message)


def redis_url() -> str:
    """A Redis database for one test, emptied first."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
    except Exception as error:
        unavailable(f"Redis at {REDIS_URL}", error)
    return REDIS_URL


@contextmanager
def postgres_database() -> Iterator[dict[str, str]]:
    """A new, empty PostgreSQL database; yields DAGSTER_PG_* settings and drops it after."""
    import psycopg2
    from psycopg2.extensions import parse_dsn

    try:
        admin = psycopg2.connect(PG_URL, connect_timeout=3)
    except Exception as error:
        unavailable(f"PostgreSQL at {PG_URL}", error)
    admin.autocommit = True
    name = f"so_assets_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    dsn = parse_dsn(PG_URL)
    try:
        yield {"DAGSTER_PG_HOST": dsn.get("host", "127.0.0.1"),
               "DAGSTER_PG_PORT": dsn.get("port", "5432"), "DAGSTER_PG_USER": dsn["user"],
               "DAGSTER_PG_PASSWORD": dsn.get("password", ""), "DAGSTER_PG_DB": name}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
