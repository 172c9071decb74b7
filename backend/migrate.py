"""Running Alembic from code, for `switchboard db ...`, migrations/env.py and the tests."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from flask import current_app
from sqlalchemy import Engine, create_engine
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.pool import NullPool

from backend.database import postgres_connect_args
from backend.models.columns import UTCDateTime

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
INITIAL_REVISION_ID = "0001"

# Tables other software may keep in the same database (Celery's SQL result backend, Kombu's SQL broker). Without
# this list autogenerate would offer to drop them and the drift check would report them.
FOREIGN_TABLES = frozenset({"celery_taskmeta", "celery_tasksetmeta", "kombu_message", "kombu_queue"})

# Arbitrary but fixed: every process that migrates the same PostgreSQL database takes this advisory lock.
POSTGRES_MIGRATION_LOCK_KEY = 0x5B_0D_B0_01


def include_name(name: str | None, type_: str, _parent_names: dict[str, Any]) -> bool:
    """Leave tables that belong to other software out of autogenerate and the drift check."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our column types as plain SQLAlchemy types, so revisions never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, JSONB):
        # Alembic's generic repr would write `astext_type=Text()`, a name the revision file never imports.
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB(astext_type=sa.Text())"
    return False


def migration_options() -> dict[str, Any]:
    """Options of the migration context, shared by env.py and the drift check so both compare alike."""
    return {
        "compare_type": True,
        "include_name": include_name,
        "render_item": render_item,
        # Every revision must run on SQLite, which cannot ALTER most things: batch mode copies the table there and
        # is plain ALTER elsewhere. Rendered whatever database autogenerate ran against.
        "render_as_batch": True,
    }


def alembic_config(database_url: str, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    """An Alembic config pointing at this project's migrations and the given database."""
    if not (migrations_dir / "env.py").is_file():
        raise RuntimeError(f"migrations not found at {migrations_dir}; install Switchboard from its source tree")
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # ConfigParser interpolates "%": escape it, or passwords with percent-encoded characters break.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if importlib.util.find_spec("ruff") is not None:
        # Generated revisions come out formatted like the rest of the code.
        config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
        config.set_section_option("post_write_hooks", "ruff_fix.type", "module")
        config.set_section_option("post_write_hooks", "ruff_fix.module", "ruff")
        config.set_section_option(
            "post_write_hooks", "ruff_fix.options", "check --fix --isolated --select I REVISION_SCRIPT_FILENAME"
        )
        config.set_section_option("post_write_hooks", "ruff_format.type", "module")
        config.set_section_option("post_write_hooks", "ruff_format.module", "ruff")
        config.set_section_option(
            "post_write_hooks", "ruff_format.options", "format --isolated --line-length 120 REVISION_SCRIPT_FILENAME"
        )
    return config


def upgrade_database(revision: str = "head", sql: bool = False) -> None:
    """Upgrade the current app's database to a revision (or print the SQL instead when `sql` is set)."""
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision, sql=sql)


def resolve_revision(revision: str, database_url: str) -> str | None:
    """The revision id a target names ("head", a full or partial id); None for "base"."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(database_url))
    if revision == "head":
        return script.get_current_head()
    found = script.get_revision(revision)
    return found.revision if found is not None else None


def migration_engine(database_url: str) -> Engine:
    """A plain engine (none of the app's SQLite pragmas: batch migrations need foreign keys off while they copy
    tables) with one connection at a time, and on PostgreSQL the app's connect timeout and keepalives: `db upgrade`
    against a silent host fails instead of hanging."""
    return create_engine(database_url, poolclass=NullPool, connect_args=postgres_connect_args(database_url))


def upgrade(database_url: str, revision: str = "head", migrations_dir: Path = MIGRATIONS_DIR) -> None:
    """Upgrade the database at a URL to a revision."""
    command.upgrade(alembic_config(database_url, migrations_dir), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the database at a URL to a revision ("base" empties it)."""
    command.downgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    """The revision the database at a URL is at, or None if it was never migrated."""
    engine = migration_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def schema_drift(database_url: str) -> list:
    """The differences autogenerate finds between the database at a URL and the models (empty when in step)."""
    import backend.models  # noqa: F401  (registers every table on Base.metadata)
    from backend.database import Base

    engine = migration_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=migration_options())
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def create_revision(
    database_url: str,
    message: str,
    autogenerate: bool,
    rev_id: str | None = None,
    migrations_dir: Path = MIGRATIONS_DIR,
) -> Path:
    """Write a new revision file; with autogenerate, its operations bring the database at the URL to the models."""
    config = alembic_config(database_url, migrations_dir)
    script = command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)
    return Path(script.path)


def regenerate_initial(message: str = "initial", migrations_dir: Path = MIGRATIONS_DIR) -> Path:
    """Replace every revision with one initial migration generated from the models, and prove it has no drift."""
    for old in (migrations_dir / "versions").glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="switchboard-migrations-") as workdir:
        # Autogenerate against an empty database yields the whole schema; SQLite needs no server.
        empty_url = f"sqlite:///{Path(workdir) / 'empty.sqlite'}"
        path = create_revision(empty_url, message, True, INITIAL_REVISION_ID, migrations_dir)
        upgrade(empty_url, migrations_dir=migrations_dir)
        drift = schema_drift(empty_url)
    if drift:
        raise RuntimeError(f"the regenerated migration does not match the models: {drift}")
    return path
