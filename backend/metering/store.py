"""Where shared counters live (the app's Redis client when REDIS_URL is set) and how the database ones change:
idempotent row inserts, all-or-none charges, and the counter statements run as driver SQL."""

from __future__ import annotations

import functools
import re
from typing import Any

import redis
from flask import Flask
from sqlalchemy import Connection, CursorResult, Engine, Table, TextClause
from sqlalchemy.dialects import postgresql, sqlite

REDIS_KEY = "switchboard.redis"


def shared_redis(app: Flask) -> redis.Redis | None:
    """The app's Redis client (one connection pool per app and process), or None when REDIS_URL is not set."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get(REDIS_KEY)
    if client is None:
        client = app.extensions[REDIS_KEY] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client


def key_prefix(app: Flask) -> str:
    """The prefix of every Redis key this app writes, so that several deployments can share one server."""
    return app.config.get("REDIS_KEY_PREFIX") or "switchboard:"


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> None:
    """Insert a row unless one with the same primary key exists (ON CONFLICT DO NOTHING on both databases)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"unsupported database {dialect}")
    conn.execute(statement)


def run_counter_statement(conn: Connection, statement: TextClause, params: dict | list[dict]) -> CursorResult:
    """Run one of the fixed counter statements (their text is ours, built once) as the driver's own SQL.

    `Connection.exec_driver_sql` skips SQLAlchemy's statement cache lookup and bind processing, which for these
    statements, run on every model call, cost about as much as the database itself: 64 against 114 µs for the
    rate-limit charge on SQLite, measured alone (docs/performance.md). It keeps the connection's error
    handling and disconnect detection. A list of parameter sets runs as executemany.
    """
    return conn.exec_driver_sql(driver_sql(statement.text, conn.dialect.name), params)


@functools.cache
def driver_sql(sql: str, dialect: str) -> str:
    """`:name` parameters in the driver's style: sqlite3 takes them as they are, psycopg2 wants `%(name)s`."""
    if dialect == "postgresql":
        return _NAMED_PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
    return sql


_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def charge_all_or_none(
    engine: Engine, charge: TextClause, params: dict[str, Any], take_back: TextClause, undo: dict[tuple, dict]
) -> bool:
    """Run `charge`, a multi-row upsert that changes only the rows that fit and RETURNs their keys; unless every row
    of `undo` (its parameters for `take_back`, by returned key) was charged, take back the ones that were. Whether
    all were charged. On `db.autocommit_engine` each statement commits on its own, so the rows stay locked only while
    the database runs it: in a transaction, a row every request of a tenant needs (its budget counter) stayed locked
    across the round trip to COMMIT, and under gevent until the holder's greenlet ran again, so all of them queued
    behind one another (bench/overhead.py on PostgreSQL, docs/performance.md). Between the two statements the rows
    charged only look fuller, which can refuse a concurrent request but never lets one past a limit."""
    with engine.begin() as conn:
        charged = {tuple(row) for row in run_counter_statement(conn, charge, params)}
        if len(charged) == len(undo):
            return True
        taken_back = [row for key, row in undo.items() if key in charged]
        if taken_back:
            run_counter_statement(conn, take_back, taken_back)
    return False
