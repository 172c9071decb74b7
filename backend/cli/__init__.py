"""The `switchboard` command: one click group, one module per area of commands."""

from __future__ import annotations

import click

from backend.cli import database, devtoken, jobs, secrets, serve, tenants, worker
from backend.cli import skills as skills_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Switchboard: a self-hostable multi-model AI assistant for Word and Excel."""


for module in (serve, database, tenants, devtoken, skills_commands, worker, jobs, secrets):
    for command in module.COMMANDS:
        main.add_command(command)
