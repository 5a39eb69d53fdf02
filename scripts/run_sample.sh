#!/usr/bin/env bash
# Materialize every bundled-sample partition, questions, eda_report (and every later asset) offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export DAGSTER_HOME="$PWD" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset SO_ASSETS_CELERY_BROKER  # the run config runs every step in this process
range=$(.venv/bin/python -c "
import json; m = json.load(open('data/sample/manifest.json'))
print(json.dumps({'dagster/asset_partition_range_start': m['first_day'],
                  'dagster/asset_partition_range_end': m['last_day']}))")
echo "dagster job execute -m so_assets.definitions -j stackoverflow_pipeline -c data/sample/run_config.yaml --tags '$range'"
.venv/bin/dagster job execute -m so_assets.definitions -j stackoverflow_pipeline \
  -c data/sample/run_config.yaml --tags "$range"
echo "Report: data/reports/eda/eda_report.md   Database: data/so_assets.duckdb"
