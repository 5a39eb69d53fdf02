#!/usr/bin/env bash
# Install (Debian packages, when missing) and start what the service tests need, on loopback:
# PostgreSQL with a `dagster` role (password `dagster`, may create databases), Redis on 6379,
# and Chromium for the browser test. Idempotent; run as root (as .ci/run does).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 ||
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no

version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
pg_lsclusters -h | grep -q "^$version main .* online" || pg_ctlcluster "$version" main start
for _ in $(seq 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'dagster'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE dagster LOGIN CREATEDB PASSWORD 'dagster'\""
echo "services: PostgreSQL $version on 127.0.0.1:5432 (role dagster), Redis on 127.0.0.1:6379," \
     "$(chromium --version 2>/dev/null || echo 'no chromium')"
