"""The `switchboard` command: one click group, one module per area of commands."""

from __future__ import annotations

import click

from backend.cli import database, devtoken, jobs, secrets, serve, tenants, worker
from backend.cli import skills as skills_commands


class OperatorErrors(click.Group):
    """A configuration the app cannot start with, or a database it cannot reach, ends a command with one clear line
    (`Error: ...`, exit status 1), not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the subcommand, turning the operator's configuration and connection problems into CLI errors."""
        from alembic.util.exc import CommandError
        from sqlalchemy.exc import OperationalError

        from backend.config import ConfigurationError

        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            # The driver's own words (host, port, user, the reason), never the URL: it may hold a password.
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise click.ClickException(f"the database (SWITCHBOARD_DATABASE_URL) cannot be used: {reason}") from None
        except CommandError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=OperatorErrors, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Switchboard: a self-hostable multi-model AI assistant for Word and Excel."""


for module in (serve, database, tenants, devtoken, skills_commands, worker, jobs, secrets):
    for command in module.COMMANDS:
        main.add_command(command)
