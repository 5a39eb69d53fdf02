#!/usr/bin/env bash
# Create .venv and install so_assets with its dev and deployment tools (PostgreSQL storage,
# Celery, Playwright). Safe to run again (fast when done).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# torch is pinned to 2.13.0 in pyproject.toml: its CPU build is a local wheel on this machine
# kind; an unpinned torch would pull a multi-GB CUDA build from PyPI.
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory" || true
.venv/bin/python -c "import so_assets, torch; print('so_assets ready; torch', torch.__version__)"
