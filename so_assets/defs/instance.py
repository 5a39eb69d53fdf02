"""The instance's storage with paths relative to ``DAGSTER_HOME``, not to the working folder:
``dagster.yaml``'s ``data/dagster_home`` means the same folder whichever folder Dagster is
started from (Dagster's own classes resolve a relative ``base_dir`` against the process's
working folder)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._core.storage.root import LocalArtifactStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage


def home_relative(path: str) -> str:
    """``path``, or ``$DAGSTER_HOME/path`` when it is relative (and DAGSTER_HOME is set)."""
    home = os.environ.get("DAGSTER_HOME")
    return path if Path(path).is_absolute() or not home else str(Path(home) / path)


class HomeSqliteStorage(DagsterSqliteStorage):
    """Runs, event logs and schedules in SQLite under ``DAGSTER_HOME``-relative ``base_dir``."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls.from_local(inst_data=inst_data,
                              base_dir=home_relative(config_value["base_dir"]))


class HomeArtifactStorage(LocalArtifactStorage):
    """Local artifacts under a ``DAGSTER_HOME``-relative ``base_dir``."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, base_dir=home_relative(config_value["base_dir"]))


class HomeComputeLogManager(LocalComputeLogManager):
    """Steps' stdout and stderr under a ``DAGSTER_HOME``-relative ``base_dir``."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **{**config_value,
                                          "base_dir": home_relative(config_value["base_dir"])})
