"""Where steps run: the DuckDB pool (one writer) and the Celery queue of each kind of step.

Under the multiprocess executor only the pool matters. Under Celery (see deploy/README.md),
steps that write DuckDB go to queue ``duckdb`` (served by the machine whose disk holds the
file) and embedding steps to queue ``embed`` (GPU machines); the rest to Celery's ``dagster``.
"""

import os

import dagster as dg

WRITES_DUCKDB = {"pool": "duckdb", "op_tags": {"dagster-celery/queue": "duckdb"}}
EMBEDS = {"op_tags": {"dagster-celery/queue": "embed"}}
TRAINS = {"pool": "train"}
"""Training uses every core (torch, XGBoost and BLAS threads): two trainings side by side on
one machine oversubscribe them and each runs several times slower (``seq2seq_tags``: 12 s an
epoch alone, 70 s beside another training on two cores). Pool ``train`` (limit 1 unless the
instance sets more, e.g. one per training machine) runs them one after another."""


@dg.definitions
def executor() -> dg.Definitions:
    """The code location's default executor: for automation runs and `dagster asset
    materialize` (jobs set their own)."""
    return dg.Definitions(executor=heavy_step_executor())


def heavy_step_executor() -> dg.ExecutorDefinition:
    """The executor of runs with heavy steps (embedding, training): a process per step on this
    machine (or every step in the run's own process when the run config says
    ``execution: {config: {in_process: {}}}``, as the bundled sample's does), or, when
    ``SO_ASSETS_CELERY_BROKER`` names a broker, Celery workers on any number of machines
    (``dagster-celery`` is then required)."""
    broker = os.environ.get("SO_ASSETS_CELERY_BROKER")
    if not broker:
        return dg.multi_or_in_process_executor
    from dagster_celery import celery_executor

    return celery_executor.configured(
        {"broker": broker, "backend": os.environ.get("SO_ASSETS_CELERY_BACKEND", broker)},
        name="celery")
