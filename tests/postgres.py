"""Throwaway PostgreSQL databases for tests: each has a unique name and is dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

# The server every development machine and CI runs; SWITCHBOARD_TEST_POSTGRES_URL points the tests elsewhere.
DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def admin_url() -> URL:
    """The URL of a database the tests may connect to in order to create and drop their own databases."""
    return make_url(os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL)


@contextmanager
def throwaway_database(purpose: str = "test") -> Iterator[str]:
    """Create an empty database named sb_<purpose>_<random>, yield its URL, then drop it even if still in use."""
    server = admin_url()
    name = f"sb_{purpose}_{secrets.token_hex(6)}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        engine.dispose()
        # CI runs these tests: an unreachable server must fail them, never skip them.
        pytest.fail(f"PostgreSQL at {server.render_as_string()} is unreachable: {exc.orig}", pytrace=False)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@contextmanager
def throwaway_schema(database_url: str) -> Iterator[str]:
    """Create an empty schema in a database, yield a URL whose connections see only it, then drop it.

    Much cheaper than a database per test (CREATE DATABASE copies a template and takes seconds on a busy machine),
    and as isolated for the app: every unqualified name, Alembic's version table included, resolves to the schema.
    """
    name = f"t_{secrets.token_hex(6)}"
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield (
            make_url(database_url)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with engine.connect() as connection:
            # A test that leaked an open transaction must not hang the suite; the database is dropped at the end anyway.
            connection.execute(text("SET lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()
