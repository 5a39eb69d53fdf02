"""The deployment files agree with each other and with the code: loopback binds, hardened
units, one set of queues, one broker, TLS to PostgreSQL, secrets files at mode 600."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes",
             "CapabilityBoundingSet=", "UMask=0027")


def test_every_server_binds_loopback_only():
    for unit in UNITS:
        start = next(line for line in unit.read_text().splitlines()
                     if line.startswith("ExecStart="))
        assert "0.0.0.0" not in start, unit.name
        if " -h " in start:
            assert " -h 127.0.0.1 " in start, unit.name
    grpc = yaml.safe_load((DEPLOY / "workspace.grpc.yaml").read_text())
    assert grpc["load_from"][0]["grpc_server"]["host"] == "127.0.0.1"
    nginx = (DEPLOY / "nginx" / "so-assets.conf").read_text()
    assert "auth_basic_user_file" in nginx and "proxy_pass http://127.0.0.1:3000;" in nginx


def test_every_unit_is_hardened():
    for unit in UNITS:
        text = unit.read_text()
        for setting in HARDENING:
            assert re.search(rf"^{re.escape(setting)}$", text, re.M), (unit.name, setting)


def test_queues_and_broker_are_the_codes_and_one():
    from so_assets.defs.placement import EMBEDS, WRITES_DUCKDB

    code_queues = {WRITES_DUCKDB["op_tags"]["dagster-celery/queue"],
                   EMBEDS["op_tags"]["dagster-celery/queue"], "dagster"}
    documented = set(re.findall(r"so-assets-worker@(\w+)", "\n".join(
        p.read_text() for p in [*UNITS, DEPLOY / "README.md"])))
    assert documented == code_queues
    env = dict(line.split("=", 1) for line in (DEPLOY / "so-assets.env.example").read_text()
               .splitlines() if line and not line.startswith("#"))
    celery = yaml.safe_load((DEPLOY / "celery_worker.yaml").read_text())["execution"]["config"]
    assert env["SO_ASSETS_CELERY_BROKER"] == celery["broker"] == celery["backend"]
    assert re.match(r"redis://:[^@]+@", celery["broker"]), "Redis without a password"


def test_postgres_over_tls_and_secrets_files_private():
    production = yaml.safe_load((DEPLOY / "dagster.production.yaml").read_text())
    assert production["storage"]["postgres"]["postgres_db"]["params"]["sslmode"] in (
        "require", "verify-ca", "verify-full")
    for secrets in ("so-assets.env.example", "celery_worker.yaml"):
        assert "install -m 600" in (DEPLOY / secrets).read_text(), secrets
