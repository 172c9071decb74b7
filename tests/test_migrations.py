"""Alembic migrations: an empty database reaches the models' schema on SQLite and PostgreSQL, with no drift."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import JSON, DateTime, create_engine, inspect, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.pool import NullPool

import backend.models  # noqa: F401  (registers every table)
from backend.cli import main
from backend.database import Base
from backend.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    create_revision,
    current_revision,
    downgrade,
    regenerate_initial,
    schema_drift,
    upgrade,
)

SWITCHBOARD = Path(sys.executable).with_name("switchboard")
ALL_TABLES = set(Base.metadata.tables) | {"alembic_version"}


def head_revision() -> str:
    """The newest revision under migrations/versions."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def table_names(url: str) -> set[str]:
    """The tables that exist in the database at a URL."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    """Run SQL statements on the database at a URL, outside the migrations."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def cli_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment an operator gives the `switchboard` command."""
    return {**os.environ, "SWITCHBOARD_DATABASE_URL": database_url, "SWITCHBOARD_INSTANCE_PATH": str(instance)}


def test_config_keeps_percent_encoded_passwords():
    """A password with percent-encoded characters reaches Alembic unchanged (ConfigParser would interpolate it)."""
    url = "postgresql+psycopg2://switchboard:p%40ss%25word@db.internal:5432/switchboard"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


def test_console_script_upgrades_an_empty_database(each_backend_url, tmp_path):
    """`switchboard db upgrade`, run as an operator would, builds the whole schema on an empty database."""
    if each_backend_url.startswith("sqlite"):
        Path(each_backend_url.removeprefix("sqlite:///")).touch()  # an empty file, as an operator might provide
    result = subprocess.run(
        [str(SWITCHBOARD), "db", "upgrade"],
        env=cli_env(each_backend_url, tmp_path / "instance"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout
    assert current_revision(each_backend_url) == head_revision()
    assert table_names(each_backend_url) == ALL_TABLES


def test_no_drift_after_upgrade(each_backend_url):
    """After `upgrade head` autogenerate finds nothing: the migrations match the models."""
    upgrade(each_backend_url)
    assert schema_drift(each_backend_url) == []


def test_upgrade_downgrade_upgrade(each_backend_url):
    """Every revision can be undone down to an empty database and applied again."""
    upgrade(each_backend_url)
    downgrade(each_backend_url, "base")
    assert table_names(each_backend_url) == {"alembic_version"}
    assert current_revision(each_backend_url) is None
    upgrade(each_backend_url)
    assert current_revision(each_backend_url) == head_revision()
    assert schema_drift(each_backend_url) == []


def test_budget_counters_keep_their_spend_through_the_hold_windows_migration(each_backend_url):
    """0004 moves reservations into time-window slots: spend stays; what was still reserved (holds of processes that
    died, since migrations run with no call in flight) is dropped; the rows then take reservations as new ones do."""
    upgrade(each_backend_url, "0003")
    execute(
        each_backend_url,
        "INSERT INTO budget_counters (tenant_id, user_id, period, spent_micros, reserved_micros)"
        " VALUES ('t1', '', '2026-12', 1500000, 70000)",
    )
    upgrade(each_backend_url)
    engine = create_engine(each_backend_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT * FROM budget_counters")).mappings().one()
    finally:
        engine.dispose()
    assert row["spent_micros"] == 1_500_000 and "reserved_micros" not in row
    assert (row["reserved_0_micros"], row["reserved_0_window"], row["reserved_1_micros"], row["reserved_1_window"]) == (
        0, -1, 0, -1,
    )  # fmt: skip


def test_foreign_keys_keep_their_on_delete_rules(each_backend_url):
    """Each foreign key reaches the database with its model's ON DELETE rule."""
    upgrade(each_backend_url)
    engine = create_engine(each_backend_url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        for table in Base.metadata.tables.values():
            reflected = {
                (tuple(fk["constrained_columns"]), fk["referred_table"]): (fk["options"].get("ondelete") or None)
                for fk in inspector.get_foreign_keys(table.name)
            }
            expected = {((fk.parent.name,), fk.column.table.name): fk.ondelete for fk in table.foreign_keys}
            assert reflected == expected, table.name
    finally:
        engine.dispose()


def test_postgresql_gets_jsonb_and_timestamptz(postgres_url):
    """JSON documents are JSONB and aware timestamps are timestamptz on PostgreSQL."""
    upgrade(postgres_url)
    engine = create_engine(postgres_url, poolclass=NullPool)
    try:
        inspector = inspect(engine)
        for table in Base.metadata.tables.values():
            reflected = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if isinstance(column.type, JSON):
                    assert isinstance(reflected[column.name], JSONB), f"{table.name}.{column.name}"
                if isinstance(column.type.dialect_impl(engine.dialect), DateTime) and column.type.timezone:
                    assert reflected[column.name].timezone, f"{table.name}.{column.name}"
    finally:
        engine.dispose()


def test_concurrent_upgrades_on_postgresql_serialise(postgres_url):
    """Replicas starting together all run the upgrade; the advisory lock lets exactly one create the schema."""
    code = "import sys; from backend.migrate import upgrade; upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, postgres_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
    assert schema_drift(postgres_url) == []


def test_drift_check_reports_a_missing_migration(tmp_path):
    """A database that differs from the models is reported, and `db check` fails."""
    url = f"sqlite:///{tmp_path / 'drifted.sqlite'}"
    upgrade(url)
    execute(url, "DROP INDEX ix_jobs_owner_created", "ALTER TABLE tenants ADD COLUMN stray INTEGER")
    drift = schema_drift(url)
    assert ("add_index", "ix_jobs_owner_created") in [(d[0], getattr(d[1], "name", None)) for d in drift]
    assert ("remove_column", "stray") in [(d[0], d[3].name) for d in drift if d[0] == "remove_column"]
    result = CliRunner().invoke(main, ["db", "check"], env=cli_env(url, tmp_path / "instance"))
    assert result.exit_code == 1
    assert "a migration is missing" in result.output


def test_drift_check_ignores_celery_tables_and_passes_at_head(tmp_path):
    """Tables of Celery and Kombu in the same database are neither drift nor dropped."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    upgrade(url)
    # Celery's SQL result backend may share the database; it is not ours to migrate or drop.
    execute(url, "CREATE TABLE celery_taskmeta (id INTEGER PRIMARY KEY)", "CREATE TABLE kombu_message (id INTEGER)")
    result = CliRunner().invoke(main, ["db", "check"], env=cli_env(url, tmp_path / "instance"))
    assert result.exit_code == 0, result.output
    assert "database matches the models" in result.output


def test_db_current_before_and_after_upgrade(tmp_path):
    """`db current` says none before the first upgrade and the head revision after."""
    url = f"sqlite:///{tmp_path / 'current.sqlite'}"
    env = cli_env(url, tmp_path / "instance")
    assert CliRunner().invoke(main, ["db", "current"], env=env).output.strip() == "none"
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert CliRunner().invoke(main, ["db", "current"], env=env).output.strip() == head_revision()


def test_offline_sql_for_postgresql_needs_no_server(tmp_path):
    """`db upgrade --sql` prints the PostgreSQL DDL without connecting."""
    # Nothing listens on port 1: offline mode must only print SQL for a DBA, never connect.
    url = "postgresql+psycopg2://postgres@127.0.0.1:1/never_created"
    result = CliRunner().invoke(main, ["db", "upgrade", "--sql"], env=cli_env(url, tmp_path / "instance"))
    assert result.exit_code == 0, result.output
    for table in Base.metadata.tables:
        assert f"CREATE TABLE {table} (" in result.output
    assert "JSONB" in result.output
    assert "TIMESTAMP WITH TIME ZONE" in result.output
    assert "ON DELETE CASCADE" in result.output


@pytest.fixture
def migrations_copy(tmp_path) -> Path:
    """A copy of migrations/ that a test may write revisions into."""
    return Path(shutil.copytree(MIGRATIONS_DIR, tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")))


def upgrade_body(revision_file: Path) -> str:
    """The source of a revision's upgrade() function."""
    source = revision_file.read_text()
    return source.split("def upgrade() -> None:", 1)[1].split("def downgrade() -> None:", 1)[0]


def test_autogenerate_at_head_finds_nothing_to_do(migrations_copy, tmp_path):
    """A developer's autogenerate against an up-to-date database writes an empty revision."""
    url = f"sqlite:///{tmp_path / 'at-head.sqlite'}"
    upgrade(url, migrations_dir=migrations_copy)
    revision_file = create_revision(url, "nothing", autogenerate=True, migrations_dir=migrations_copy)
    assert revision_file.parent == migrations_copy / "versions"
    assert "op." not in upgrade_body(revision_file)


def test_regenerate_initial_writes_one_revision_without_drift(migrations_copy, tmp_path):
    """`db regenerate-initial` replaces every revision with one that matches the models."""
    (migrations_copy / "versions" / "0002_stale.py").write_text("this stale revision must be removed\n")
    revision_file = regenerate_initial(migrations_dir=migrations_copy)
    assert [path.name for path in (migrations_copy / "versions").glob("*.py")] == ["0001_initial.py"]
    assert "op.create_table" in upgrade_body(revision_file)
    assert "import backend" not in revision_file.read_text()  # revisions must not depend on application code
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    upgrade(url, migrations_dir=migrations_copy)
    assert schema_drift(url) == []


def test_postgres_url_is_an_empty_database_of_its_own(postgres_url, postgres_session_database):
    """The postgres_url fixture hands each test an empty, isolated database."""
    assert table_names(postgres_url) == set()
    upgrade(postgres_url)
    assert table_names(postgres_url) == ALL_TABLES
    # Nothing leaked into the shared session database, where the next test's fresh database lives.
    assert table_names(postgres_session_database) == set()


OLD_TENANT = "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize("start", ["0001", "0002", "0003"])
def test_db_upgrade_brings_every_earlier_revision_to_head(each_backend_url, tmp_path, start):
    """An operator's database at any earlier revision, with a tenant in it, reaches head without drift, and says so."""
    env = cli_env(each_backend_url, tmp_path / "instance")
    first = CliRunner().invoke(main, ["db", "upgrade", "--revision", start], env=env)
    assert (first.exit_code, first.output.strip().splitlines()[-1]) == (0, f"database at {start}")
    assert CliRunner().invoke(main, ["tenants", "add", OLD_TENANT, "--name", "Old"], env=env).exit_code == 0
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"database at head ({head_revision()})"
    assert schema_drift(each_backend_url) == []
    assert f"{OLD_TENANT}\tactive\tOld" in CliRunner().invoke(main, ["tenants", "list"], env=env).output


@pytest.mark.parametrize("target", ["0002", "base"])
def test_db_upgrade_to_an_older_revision_says_it_did_not_go_back(tmp_path, target):
    """Alembic's upgrade to a revision below the database's does nothing: the command fails saying so, never
    claiming the database is at the target."""
    url = f"sqlite:///{tmp_path / 'ahead.sqlite'}"
    env = cli_env(url, tmp_path / "instance")
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    result = CliRunner().invoke(main, ["db", "upgrade", "--revision", target], env=env)
    assert result.exit_code == 1
    assert f"the database is at {head_revision()}, past {target}" in result.output
    assert f"database at {target}" not in result.output
    assert current_revision(url) == head_revision()


def test_db_upgrade_to_an_unknown_revision_is_one_clear_line(tmp_path):
    """A mistyped revision is an error message, not a traceback."""
    env = cli_env(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path / "instance")
    result = CliRunner().invoke(main, ["db", "upgrade", "--revision", "9999"], env=env)
    assert (result.exit_code, type(result.exception)) == (1, SystemExit)  # click's error exit, not a crash
    assert "Can't locate revision identified by '9999'" in result.output
