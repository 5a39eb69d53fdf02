"""Questions are partitioned by their UTC creation day."""


import os

import dagster as dg

# StackOverflow's first public day; the bundled sample covers 2024-03-01..21.
FIRST_DAY = os.environ.get("SO_ASSETS_FIRST_DAY", "2008-07-31")

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, timezone="UTC")
