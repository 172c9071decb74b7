"""`switchboard run` (web) and `switchboard worker` (Celery)."""

from __future__ import annotations

import click


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Serve the web app and API with gunicorn."""
    raise click.ClickException("not implemented yet")


@click.command("worker")
@click.option("--concurrency", "-c", default=2, show_default=True, type=int)
def worker(concurrency: int) -> None:
    """Run a Celery worker for long-running jobs."""
    raise click.ClickException("not implemented yet")


COMMANDS = [run, worker]
