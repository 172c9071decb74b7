"""`switchboard db ...`: schema migrations for operators (upgrade, current, check) and developers (revision)."""

from __future__ import annotations

import click


def configured_database_url() -> str:
    """The database URL from the operator's configuration (instance file, SWITCHBOARD_* environment)."""
    from backend.cli.context import cli_app

    return cli_app().config["DATABASE_URL"]


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option("--sql", is_flag=True, help="Print the SQL for a DBA to review and run, instead of running it.")
def upgrade(revision: str, sql: bool) -> None:
    """Apply migrations up to REVISION (creates the schema on an empty database); never goes back."""
    from backend.cli.context import cli_app
    from backend.migrate import current_revision, resolve_revision, upgrade_database

    app = cli_app()
    with app.app_context():
        upgrade_database(revision, sql=sql)
    if sql:
        return
    url = app.config["DATABASE_URL"]
    now, wanted = current_revision(url), resolve_revision(revision, url)
    if now != wanted:
        # Alembic's upgrade to an older revision does nothing: say so rather than claim the target was reached.
        raise click.ClickException(
            f"the database is at {now or 'none'}, past {wanted or 'base'}: `db upgrade` never goes back (a downgrade "
            "is `alembic -x url=... downgrade REVISION`, after a backup)"
        )
    head = resolve_revision("head", url)
    click.echo(f"database at head ({now})" if now == head else f"database at {now or 'base'}")


@db_group.command("current")
def current() -> None:
    """Print the revision the database is at ("none" if it was never migrated)."""
    from backend.migrate import current_revision

    click.echo(current_revision(configured_database_url()) or "none")


@db_group.command("check")
def check() -> None:
    """Fail unless the database matches the models (run after `db upgrade`; CI runs it too)."""
    from backend.migrate import schema_drift

    drift = schema_drift(configured_database_url())
    if drift:
        for difference in drift:
            click.echo(f"  {difference}", err=True)
        raise click.ClickException("the database schema differs from the models: a migration is missing")
    click.echo("database matches the models")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision does, e.g. 'add budgets table'.")
@click.option("--autogenerate", is_flag=True, help="Fill in the operations by comparing the database to the models.")
@click.option("--rev-id", default=None, help="Revision id to use instead of a random one.")
def revision(message: str, autogenerate: bool, rev_id: str | None) -> None:
    """Developers: write a new migration under migrations/versions (the database must be at head)."""
    from backend.migrate import create_revision

    path = create_revision(configured_database_url(), message, autogenerate=autogenerate, rev_id=rev_id)
    click.echo(f"wrote {path}; review it before committing")


@db_group.command("regenerate-initial")
@click.confirmation_option(prompt="Delete every file in migrations/versions and generate one initial migration?")
def regenerate_initial() -> None:
    """Developers, before the first release only: rewrite the migrations as one initial revision from the models."""
    from backend.migrate import regenerate_initial as regenerate

    path = regenerate()
    click.echo(f"wrote {path}; it upgrades an empty database to the models with no drift; review it before committing")


COMMANDS = [db_group]
