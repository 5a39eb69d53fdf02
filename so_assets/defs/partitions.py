"""Questions are partitioned by their UTC creation day."""

import os

import dagster as dg

from so_assets.defs.resources import source_from_environment

FIRST_DAY = (os.environ.get("SO_ASSETS_FIRST_DAY")
             or source_from_environment().source().first_partition_day().isoformat())
"""``SO_ASSETS_FIRST_DAY``, else where the source starts: StackOverflow's first day for the API
and files, the sample's first day for the bundled sample (so its days show as filled)."""

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")
