"""`switchboard worker` (a Celery worker for the app) and `switchboard up` (everything on one machine)."""

from __future__ import annotations

import os
import socket
import sys

import click

from backend.cli.supervisor import ChildSpec, Supervisor

# The embedded SQLite broker serialises writers; a couple of processes keep it well below its limits.
DEFAULT_CONCURRENCY = 2


@click.command("worker")
@click.option("--concurrency", "-c", default=DEFAULT_CONCURRENCY, show_default=True, type=click.IntRange(min=1))
@click.option("--queues", "-Q", default=None, help="Comma-separated queues to consume [default: the default queue].")
@click.option("--loglevel", "-l", default=None, help="Log level [default: SWITCHBOARD_LOG_LEVEL].")
def worker(concurrency: int, queues: str | None, loglevel: str | None) -> None:
    """Run a Celery worker (prefork) for long-running jobs."""
    from backend.cli.context import cli_app
    from backend.tasks.broker import prepare_broker

    app = cli_app()
    celery_app = app.extensions["celery"]
    prepare_broker(celery_app)
    options = {"queues": [q.strip() for q in queues.split(",") if q.strip()]} if queues else {}
    celery_worker = celery_app.Worker(
        # A unique node name: several workers on one host must not look like duplicates of each other.
        hostname=f"switchboard-{os.getpid()}@{socket.gethostname()}",
        pool_cls="prefork",
        concurrency=concurrency,
        loglevel=loglevel or app.config["LOG_LEVEL"],
        **options,
    )
    celery_worker.start()
    sys.exit(celery_worker.exitcode)


def switchboard_argv(*args: str) -> list[str]:
    """Run a `switchboard` subcommand with this very interpreter, whatever PATH holds."""
    return [sys.executable, "-m", "backend.cli", *args]


def base_url(host: str, port: int) -> str:
    """The URL a browser on this machine uses to reach the web server (IPv6 hosts in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def up_children(host: str, port: int, concurrency: int) -> list[ChildSpec]:
    """The processes of a one-machine deployment; add a line here for each new one (model server, add-in)."""
    return [
        ChildSpec(
            "web",
            switchboard_argv("run", "--host", host, "--port", str(port)),
            ready_url=f"{base_url(host, port)}/api/health",
        ),
        ChildSpec("worker", switchboard_argv("worker", "--concurrency", str(concurrency))),
    ]


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--concurrency", "-c", default=DEFAULT_CONCURRENCY, show_default=True, type=click.IntRange(min=1))
@click.option("--grace", default=25.0, show_default=True, type=float, help="Seconds to let children stop.")
@click.pass_context
def up(ctx: click.Context, host: str, port: int, concurrency: int, grace: float) -> None:
    """Everything on one machine: migrate the database, then run the web server and a worker until Ctrl-C."""
    from backend.cli.context import cli_app
    from backend.cli.database import upgrade
    from backend.tasks.broker import prepare_broker

    ctx.invoke(upgrade)
    # Create the embedded broker's tables now, before the web server and the worker race to.
    prepare_broker(cli_app().extensions["celery"])
    children = up_children(host, port, concurrency)
    click.echo(f"Switchboard: {base_url(host, port)}/ (Ctrl-C to stop)")
    supervisor = Supervisor(children, grace_seconds=grace, say=lambda line: click.echo(f"switchboard up: {line}"))
    sys.exit(supervisor.run())


COMMANDS = [worker, up]
