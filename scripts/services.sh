#!/usr/bin/env bash
# Install (Debian packages, when missing) and start what the service tests need, on loopback:
# PostgreSQL with a `dagster` role (password `dagster`, may create databases) and TLS on, Redis on
# 6379 (password `so-assets-test`),
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

# Redis with a password, as deploy/celery_worker.yaml has it (a passwordless one is given it).
redis_password=so-assets-test
if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  redis-cli -h 127.0.0.1 -p 6379 config set requirepass "$redis_password" >/dev/null
elif ! redis-cli -h 127.0.0.1 -p 6379 -a "$redis_password" --no-auth-warning ping 2>/dev/null \
    | grep -q PONG; then
  redis-server --bind 127.0.0.1 --port 6379 --requirepass "$redis_password" --daemonize yes \
    --save "" --appendonly no
fi

version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
pg_lsclusters -h | grep -q "^$version main .* online" || pg_ctlcluster "$version" main start
for _ in $(seq 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
# TLS on, as deploy/dagster.production.yaml asks (sslmode=require), with Debian's snakeoil
# certificate (ssl-cert comes with the postgresql package; the postgres user reads its key).
if [ "$(su postgres -c "psql -qtAc 'SHOW ssl'")" != "on" ]; then
  [ -f /etc/ssl/private/ssl-cert-snakeoil.key ] || make-ssl-cert generate-default-snakeoil --force-overwrite
  su postgres -c "psql -qc \"ALTER SYSTEM SET ssl = on\""
  pg_ctlcluster "$version" main reload
  for _ in $(seq 30); do [ "$(su postgres -c "psql -qtAc 'SHOW ssl'")" = "on" ] && break; sleep 1; done
fi
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'dagster'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE dagster LOGIN CREATEDB PASSWORD 'dagster'\""
echo "services: PostgreSQL $version on 127.0.0.1:5432 (role dagster, TLS), Redis on 127.0.0.1:6379," \
     "$(chromium --version 2>/dev/null || echo 'no chromium')"
