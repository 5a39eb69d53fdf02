"""DuckDB schema: every table so_assets keeps in its database file."""

from __future__ import annotations

import duckdb
import pyarrow as pa

RAW_QUESTIONS_DDL = """
CREATE TABLE IF NOT EXISTS raw_questions (
    question_id BIGINT NOT NULL,
    site VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    creation_day DATE NOT NULL,
    creation_date TIMESTAMP NOT NULL,
    title VARCHAR NOT NULL,
    question_text VARCHAR,
    tags VARCHAR[] NOT NULL,
    num_tags INTEGER NOT NULL,
    question_score INTEGER NOT NULL,
    view_count INTEGER,
    answer_count INTEGER,
    is_answered BOOLEAN,
    last_activity_date TIMESTAMP,
    owner_user_id BIGINT,
    owner_reputation INTEGER,
    link VARCHAR,
    has_accepted_answer BOOLEAN NOT NULL,
    accepted_answer_id BIGINT,
    accepted_answer_score INTEGER,
    accepted_answer_date TIMESTAMP,
    time_to_accepted_answer_hours DOUBLE,
    accepted_answer_length_chars INTEGER,
    accepted_answer_length_tokens INTEGER,
    ingested_at TIMESTAMP NOT NULL
)
"""

PARTITION_LOADS_DDL = """
CREATE TABLE IF NOT EXISTS raw_partition_loads (
    creation_day DATE PRIMARY KEY,
    source VARCHAR NOT NULL,
    site VARCHAR NOT NULL,
    reported_count INTEGER NOT NULL,
    stored_count INTEGER NOT NULL,
    quota_remaining INTEGER,
    loaded_at TIMESTAMP NOT NULL,
    skipped_count INTEGER NOT NULL DEFAULT 0  -- items the source could not read (see logs)
)
"""

QUESTIONS_DDL = """
CREATE TABLE IF NOT EXISTS questions (
    question_id BIGINT NOT NULL,
    site VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    creation_day DATE NOT NULL,
    creation_date TIMESTAMP NOT NULL,
    title VARCHAR NOT NULL,
    body_text VARCHAR NOT NULL,
    code_block_count INTEGER NOT NULL,
    tags VARCHAR[] NOT NULL,
    num_tags INTEGER NOT NULL,
    score INTEGER NOT NULL,
    view_count INTEGER,
    answer_count INTEGER,
    owner_reputation INTEGER,
    ingested_at TIMESTAMP,
    has_accepted_answer BOOLEAN NOT NULL,
    accepted_answer_id BIGINT,
    accepted_answer_score INTEGER,
    time_to_accepted_answer_hours DOUBLE,
    accepted_answer_length_chars INTEGER,
    accepted_answer_length_tokens INTEGER
)
"""

QUESTIONS_SYNC_DDL = """
CREATE TABLE IF NOT EXISTS questions_sync (
    creation_day DATE PRIMARY KEY,
    loaded_at TIMESTAMP NOT NULL
)
"""


DATASET_SPLITS_DDL = """
CREATE TABLE IF NOT EXISTS dataset_splits (
    question_id BIGINT PRIMARY KEY,
    group_key BIGINT NOT NULL,
    split VARCHAR NOT NULL
)
"""

TAG_TREE_PARAMS_DDL = """
CREATE TABLE IF NOT EXISTS tag_tree_params (
    params VARCHAR NOT NULL,          -- the build parameters, JSON
    min_tag_count INTEGER NOT NULL,   -- the kept-tag threshold: stored here and nowhere else
    build_seconds DOUBLE NOT NULL,
    built_at TIMESTAMP NOT NULL
)
"""

TAG_TREE_NODES_DDL = """
CREATE TABLE IF NOT EXISTS tag_tree_nodes (
    node_id INTEGER PRIMARY KEY,
    parent_id INTEGER,
    depth INTEGER NOT NULL,
    path INTEGER[] NOT NULL,
    size INTEGER NOT NULL,
    representative VARCHAR NOT NULL,
    popular VARCHAR[] NOT NULL,
    members VARCHAR[] NOT NULL,
    mean FLOAT[] NOT NULL
)
"""

TAG_TREE_TAGS_DDL = """
CREATE TABLE IF NOT EXISTS tag_tree_tags (
    tag VARCHAR PRIMARY KEY,
    question_count BIGINT NOT NULL,
    path INTEGER[] NOT NULL,
    cluster INTEGER NOT NULL
)
"""

TAG_IMPUTATION_DDL = """
CREATE TABLE IF NOT EXISTS tag_imputation (
    orphan_tag VARCHAR PRIMARY KEY,
    question_count BIGINT NOT NULL,   -- training questions carrying it
    kept_tag VARCHAR,                 -- NULL: unmapped (no kept tag within min_similarity)
    cosine DOUBLE NOT NULL            -- to its nearest kept tag
)
"""

TAG_LABELS_DDL = """
CREATE TABLE IF NOT EXISTS tag_labels (
    question_id BIGINT PRIMARY KEY,
    kept_tags VARCHAR[] NOT NULL,
    cluster_labels INTEGER[] NOT NULL,
    imputed BOOLEAN NOT NULL
)
"""

TAG_MODEL_METRICS_DDL = """
CREATE TABLE IF NOT EXISTS tag_model_metrics (
    model VARCHAR NOT NULL,
    level VARCHAR NOT NULL,           -- clusters or tags
    metric VARCHAR NOT NULL,
    value DOUBLE
)
"""

SCORE_MODEL_METRICS_DDL = """
CREATE TABLE IF NOT EXISTS score_model_metrics (
    model VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,          -- on the test split; *_log on the signed-log scale
    value DOUBLE
)
"""

TAG_PREDICTIONS_DDL = """
CREATE TABLE IF NOT EXISTS tag_predictions (
    creation_day DATE NOT NULL,
    question_id BIGINT NOT NULL,
    model VARCHAR NOT NULL,           -- the production model that predicted
    version VARCHAR NOT NULL,         -- its version folder
    kind VARCHAR NOT NULL,            -- tag (a kept tag), cluster, or new_tag (neighbour votes)
    rank INTEGER NOT NULL,            -- 1 = the highest score of its kind
    label VARCHAR NOT NULL,           -- the tag, or the cluster's representative tag
    cluster VARCHAR,                  -- a tag's cluster (its representative tag)
    score DOUBLE NOT NULL,
    chosen BOOLEAN NOT NULL,          -- above the model's tuned threshold
    predicted_at TIMESTAMP NOT NULL
)
"""

SCORE_PREDICTIONS_DDL = """
CREATE TABLE IF NOT EXISTS score_predictions (
    creation_day DATE NOT NULL,
    question_id BIGINT NOT NULL,
    model VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    horizon_days DOUBLE NOT NULL,     -- the age the score is predicted for
    score DOUBLE NOT NULL,
    low DOUBLE,                       -- the 80 % interval, for models that give one
    high DOUBLE,
    predicted_at TIMESTAMP NOT NULL
)
"""

LIVE_QUALITY_DDL = """
CREATE TABLE IF NOT EXISTS live_tag_quality (
    creation_day DATE NOT NULL,
    model VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,          -- e.g. tags_micro_f1, clusters_P@1, input_drift_auc
    value DOUBLE,
    measured_at TIMESTAMP NOT NULL
)
"""

TABLES = (RAW_QUESTIONS_DDL, PARTITION_LOADS_DDL, QUESTIONS_DDL, QUESTIONS_SYNC_DDL,
          DATASET_SPLITS_DDL, TAG_TREE_PARAMS_DDL, TAG_TREE_NODES_DDL, TAG_TREE_TAGS_DDL,
          TAG_IMPUTATION_DDL, TAG_LABELS_DDL, TAG_MODEL_METRICS_DDL, SCORE_MODEL_METRICS_DDL,
          TAG_PREDICTIONS_DDL, SCORE_PREDICTIONS_DDL, LIVE_QUALITY_DDL)


# Columns added after a table first shipped: files written by older versions gain them.
MIGRATIONS = (
    "ALTER TABLE raw_questions ADD COLUMN IF NOT EXISTS owner_reputation INTEGER",
    "ALTER TABLE questions ADD COLUMN IF NOT EXISTS owner_reputation INTEGER",
    "ALTER TABLE questions ADD COLUMN IF NOT EXISTS ingested_at TIMESTAMP",
    "ALTER TABLE raw_partition_loads ADD COLUMN IF NOT EXISTS skipped_count INTEGER DEFAULT 0",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables that do not exist yet and add columns older files lack."""
    for ddl in (*TABLES, *MIGRATIONS):
        con.execute(ddl)


def table_ddl(name: str) -> str:
    """The CREATE statement of one table."""
    for ddl in TABLES:
        if ddl.split("EXISTS", 1)[1].split("(", 1)[0].strip() == name:
            return ddl
    raise KeyError(f"no table {name!r} in the schema")


def replace_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    """Replace whole tables with Arrow data in one transaction (columns matched by name)."""
    con.execute("BEGIN TRANSACTION")
    try:
        for name, data in tables.items():
            con.execute(f"DROP TABLE IF EXISTS {name}")
            con.execute(table_ddl(name))
            con.register("incoming", data)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
