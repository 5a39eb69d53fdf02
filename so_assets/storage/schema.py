"""DuckDB schema of the question tables."""

from __future__ import annotations

import duckdb

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
    loaded_at TIMESTAMP NOT NULL
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


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the question tables that do not exist yet."""
    for ddl in (RAW_QUESTIONS_DDL, PARTITION_LOADS_DDL, QUESTIONS_DDL, QUESTIONS_SYNC_DDL):
        con.execute(ddl)
