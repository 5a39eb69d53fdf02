"""Questions are partitioned by their UTC creation day."""

import os

import dagster as dg

from so_assets.stackexchange.records import STACKOVERFLOW_FIRST_DAY

FIRST_DAY = os.environ.get("SO_ASSETS_FIRST_DAY", STACKOVERFLOW_FIRST_DAY.isoformat())

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")
