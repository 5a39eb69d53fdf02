#!/usr/bin/env bash
# One command for every benchmark: bash benchmarks/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[bench]' 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory" || true
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/python benchmarks/encoding.py
.venv/bin/python benchmarks/clustering.py
.venv/bin/python benchmarks/neighbours.py
.venv/bin/python benchmarks/definitions.py
.venv/bin/python benchmarks/serving.py
robotics=../shared/data/real/stackexchange-tags-kaggle/robotics.csv.zip
if [ -e "$robotics" ]; then
  .venv/bin/python benchmarks/tag_quality.py "$robotics"
  .venv/bin/python benchmarks/label_tree.py "$robotics"
else echo "benchmarks/tag_quality.py and label_tree.py skipped: ../shared (robotics.SE) is not beside the repository"; fi
