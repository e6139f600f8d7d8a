"""The tables of ``<run_dir>/monitoring.db``: one database per run.

Times are seconds since the epoch (``time.time()``); states are
:class:`~parsl_nb.TaskState` names (``'EXEC_DONE'``).
"""

from __future__ import annotations

__all__ = ["DB_NAME", "SCHEMA", "SCHEMA_VERSION"]

DB_NAME = "monitoring.db"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS workflow (
    run_id TEXT PRIMARY KEY,
    workflow_name TEXT,
    user TEXT,
    host TEXT,
    run_dir TEXT,
    parsl_nb_version TEXT,
    schema_version INTEGER,
    time_began REAL,
    time_completed REAL,
    tasks_total INTEGER DEFAULT 0,
    tasks_completed INTEGER DEFAULT 0,
    tasks_memo INTEGER DEFAULT 0,
    tasks_failed INTEGER DEFAULT 0,
    tasks_dep_fail INTEGER DEFAULT 0,
    tasks_cancelled INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS task (
    task_id INTEGER PRIMARY KEY,
    app TEXT,
    executor TEXT,
    depends TEXT,
    args TEXT,
    inputs TEXT,
    outputs TEXT,
    stdout TEXT,
    stderr TEXT,
    memoize INTEGER,
    hashsum TEXT,
    state TEXT,
    tries INTEGER DEFAULT 0,
    fail_count INTEGER DEFAULT 0,
    time_invoked REAL,
    time_returned REAL
);
CREATE INDEX IF NOT EXISTS task_app_state ON task (app, state);
CREATE INDEX IF NOT EXISTS task_state ON task (state);
CREATE TABLE IF NOT EXISTS try (
    task_id INTEGER,
    try_id INTEGER,
    executor TEXT,
    engine TEXT,
    block TEXT,
    time_launched REAL,
    time_running REAL,
    time_returned REAL,
    state TEXT,
    exception TEXT,
    PRIMARY KEY (task_id, try_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS status (
    task_id INTEGER,
    try_id INTEGER,
    state TEXT,
    time REAL,
    detail TEXT
);
-- no index on status: transitions are appended in time order; see reader
CREATE TABLE IF NOT EXISTS block (
    executor TEXT,
    block_id TEXT,
    job_id TEXT,
    provider TEXT,
    state TEXT,
    time REAL,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS resource (
    task_id INTEGER,
    try_id INTEGER,
    engine TEXT,
    block TEXT,
    time REAL,
    cpu_percent REAL,
    rss INTEGER,
    vms INTEGER,
    read_bytes INTEGER,
    write_bytes INTEGER,
    num_threads INTEGER
);
CREATE INDEX IF NOT EXISTS resource_task ON resource (task_id);
"""
