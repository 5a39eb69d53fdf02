"""Questions are partitioned by their UTC creation day."""

import os

import dagster as dg

from so_assets.stackexchange.records import STACKOVERFLOW_FIRST_DAY

FIRST_DAY = os.environ.get("SO_ASSETS_FIRST_DAY") or STACKOVERFLOW_FIRST_DAY.isoformat()
"""``SO_ASSETS_FIRST_DAY``, else StackOverflow's first public day (2008-07-31; every Stack
Exchange site began later). One rule for every source: choosing the source by run config
never moves the partitions, and the bundled sample's days (2024-03) are 21 of them."""

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")
