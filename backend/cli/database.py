"""`switchboard db ...`: schema migrations."""

from __future__ import annotations

import click


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (creates the schema on an empty database)."""
    from backend.cli.context import cli_app
    from backend.migrate import upgrade_database

    app = cli_app()
    with app.app_context():
        upgrade_database(revision)
    click.echo(f"database at {revision}")


COMMANDS = [db_group]
