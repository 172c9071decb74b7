"""Where shared counters live: the app's Redis client when REDIS_URL is set, and an idempotent row insert for the DB."""

from __future__ import annotations

from typing import Any

import redis
from flask import Flask
from sqlalchemy import Connection, Table
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


def add_within_limit(conn: Connection, table: Table, key: dict[str, Any], column: str, amount: int, headroom) -> bool:
    """Add `amount` to `column` of the row with primary key `key` (made if missing) in ONE statement, only where
    `headroom` (a condition on the existing row) holds; return whether it was added.

    An upsert whose update is conditional: `INSERT ... ON CONFLICT DO UPDATE SET column = column + amount WHERE
    headroom`. A missing row starts at `amount`, so the caller checks `amount` against the limit for that case.
    The row lock taken by the conflict makes it as atomic as a conditional UPDATE, at half the round trips.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"unsupported database {dialect}")
    statement = statement.values(**key, **{column: amount}).on_conflict_do_update(
        index_elements=list(key), set_={column: table.c[column] + amount}, where=headroom
    )
    return conn.execute(statement).rowcount == 1
