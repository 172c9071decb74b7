"""How CLI commands reach the app: built once per command invocation from the operator's configuration."""

from __future__ import annotations

import click
from flask import Flask


def cli_app() -> Flask:
    """The app built from the instance file and SWITCHBOARD_* environment variables."""
    from backend import create_app

    return create_app()


def migrated_app() -> Flask:
    """cli_app() for a command that uses the database: a clear error, not a traceback, before `db upgrade` ran."""
    from sqlalchemy import inspect

    from backend.extensions import db

    app = cli_app()
    with app.app_context():
        if not inspect(db.engine).has_table("tenants"):
            raise click.ClickException("the database has no tables yet: run `switchboard db upgrade` first")
    return app


def check_providers_file(app: Flask) -> None:
    """Refuse to start on a SWITCHBOARD_PROVIDERS_FILE that does not load (every call would fail), and say which key
    variables it names are not set (that provider's calls would fail)."""
    from backend.catalog import CatalogError, platform_catalog

    if not app.config["PROVIDERS_FILE"]:
        return
    with app.app_context():
        try:
            catalog = platform_catalog()
        except (CatalogError, OSError) as exc:
            raise click.ClickException(f"SWITCHBOARD_PROVIDERS_FILE: {exc}") from None
    for problem in catalog.problems:
        click.echo(f"warning: SWITCHBOARD_PROVIDERS_FILE: {problem}", err=True)
