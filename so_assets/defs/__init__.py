"""Dagster layer: assets, resources, partitions, checks, jobs and schedules. Wiring only."""
