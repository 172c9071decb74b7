"""Alembic's entry point: migrate the database named in the Alembic config to the schema of `backend.models`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

import backend.models  # noqa: F401  (registers every table on Base.metadata)
from backend.database import Base
from backend.migrate import POSTGRES_MIGRATION_LOCK_KEY, migration_engine, migration_options

target_metadata = Base.metadata


def database_url() -> str:
    """The URL that backend.migrate put in the config, or `alembic -x url=...` when Alembic runs on its own."""
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: use `switchboard db ...`, or `alembic -x url=URL ...`")
    return url


def run_migrations_offline() -> None:
    """Print the SQL of the migrations instead of running it (`switchboard db upgrade --sql`)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **migration_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a connection: one given by the caller, or a new one to the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on_connection(connection)
        return
    engine = migration_engine(database_url())
    try:
        with engine.connect() as connection:
            run_on_connection(connection)
    finally:
        engine.dispose()


def run_on_connection(connection: Connection) -> None:
    """Run the migrations in one transaction, serialised across processes on PostgreSQL."""
    context.configure(connection=connection, target_metadata=target_metadata, **migration_options())
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas starting together all run `db upgrade`: the first migrates, the others wait, then find the
            # database at head. The lock is released when the transaction ends.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK_KEY})
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
