"""With STACKEXCHANGE_KEY set and the API failing in every way, the key is nowhere: not in the
run's output, not in the step's compute logs, not in the instance's storage."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from so_assets_tests.api_server import ApiServer
from so_assets_tests.conftest import instance_home
from so_assets_tests.stackexchange.test_client_faults import FAILURES, SECRET

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def everything_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("failure", FAILURES)
def test_the_key_reaches_no_output_log_or_storage(failure, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    instance_home(home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "STACKEXCHANGE_KEY": SECRET,
           "SO_ASSETS_DATA_DIR": str(tmp_path / "data")}
    with ApiServer() as server:
        if failure == "refused":
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                url = f"http://127.0.0.1:{probe.getsockname()[1]}/2.3"
        else:
            url = server.url
            server.api.add("/2.3/questions", FAILURES[failure])
        config = tmp_path / "api.yaml"
        config.write_text(yaml.safe_dump({"resources": {"source": {"config": {
            "kind": "api", "options": {"api_root": url, "max_retries": 1,
                                       "initial_retry_seconds": 0.1, "timeout_seconds": 2,
                                       "key_hosts": ["127.0.0.1"]}}}}}))
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m",
             "so_assets.definitions", "-j", "ingest_questions_job", "-c", str(config), "--tags",
             json.dumps({"dagster/asset_partition_range_start": "2024-03-05",
                         "dagster/asset_partition_range_end": "2024-03-05"})],
            cwd=REPO, env=env, capture_output=True)
        if failure != "refused":
            assert server.api.requests, "the source was never asked"
    assert done.returncode != 0  # the run failed, as it should
    output = done.stdout + done.stderr
    assert b"REDACTED" in output or failure in ("client_error", "server_error", "malformed")
    stored = everything_under(home)  # run and event storage, compute logs
    assert (home / "history").is_dir() and stored  # the instance stored the run
    for form in (SECRET, quote(SECRET), quote_plus(SECRET)):
        assert form.encode() not in output, failure
        assert form.encode() not in stored, failure
