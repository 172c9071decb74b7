"""`switchboard worker` (a Celery worker for the app) and `switchboard up` (everything on one machine)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from backend.cli.serve import HOST_OPTION, PORT_OPTION
from backend.cli.supervisor import ChildSpec, Supervisor

# The embedded SQLite broker serialises writers; a couple of processes keep it well below its limits.
DEFAULT_CONCURRENCY = 2
# The worker's size, for `worker` and `up` alike.
CONCURRENCY_OPTION = click.option(
    "--concurrency",
    "-c",
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    type=click.IntRange(min=1),
    help="Jobs one worker runs at once.",
)


@click.command("worker")
@CONCURRENCY_OPTION
@click.option(
    "--queues", "-Q", default=None, help="Comma-separated queues to consume [default: the default queue and JOB_QUEUE]."
)
@click.option("--loglevel", "-l", default=None, help="Log level [default: SWITCHBOARD_LOG_LEVEL].")
def worker(concurrency: int, queues: str | None, loglevel: str | None) -> None:
    """Run a Celery worker (prefork) for long-running jobs."""
    from backend.cli.context import check_providers_file, cli_app
    from backend.tasks.broker import prepare_broker

    app = cli_app()
    check_providers_file(app)
    celery_app = app.extensions["celery"]
    prepare_broker(celery_app)
    if queues:
        names = [q.strip() for q in queues.split(",") if q.strip()]
    else:
        # The default queue, and JOB_QUEUE when jobs go to one of their own: otherwise `switchboard up` (and any worker
        # started without -Q) would never run a job.
        names = [celery_app.conf.task_default_queue, *filter(None, [app.config["JOB_QUEUE"]])]
    options = {"queues": list(dict.fromkeys(names))}
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


def up_children(host: str, port: int, concurrency: int, env: dict[str, str] | None = None) -> list[ChildSpec]:
    """The processes of a one-machine deployment; add a line here for each new one (model server, add-in)."""
    env = env or {}
    return [
        ChildSpec(
            "web",
            switchboard_argv("run", "--host", host, "--port", str(port)),
            env=env,
            ready_url=f"{base_url(host, port)}/api/health",
        ),
        ChildSpec("worker", switchboard_argv("worker", "--concurrency", str(concurrency)), env=env),
    ]


def embedded_local_model(app) -> tuple[ChildSpec, dict[str, str]]:
    """The bundled llama.cpp model as a child, and the environment that names it as the platform's provider."""
    import yaml

    from backend.localmodel import (
        embedded_providers_document,
        free_port,
        needs_measuring,
        packaged_gguf_path,
        price_by_measurement,
        server_command,
    )

    port = free_port()
    path = Path(app.instance_path) / "providers.embedded.yaml"
    path.write_text(yaml.safe_dump(embedded_providers_document(app.config, port), sort_keys=False))
    model_path = app.config.get("LOCAL_MODEL_PATH") or packaged_gguf_path()
    context = int(app.config.get("LOCAL_MODEL_CONTEXT") or 8192)
    argv = server_command(model_path, port, context, app.config.get("LOCAL_MODEL_CHAT_FORMAT") or "gemma")
    config = dict(app.config)

    def price_it() -> str:
        """With an hourly cost and no configured rate, the price waits for the throughput measured now."""
        throughput = price_by_measurement(config, port, path)
        return f"priced from a measured {throughput.decode:.1f} tokens/s (prompt {throughput.prefill:.1f} tokens/s)"

    on_ready = price_it if needs_measuring(app.config) else None
    spec = ChildSpec("local-model", argv, ready_url=f"http://127.0.0.1:{port}/v1/models", on_ready=on_ready)
    return spec, {"SWITCHBOARD_PROVIDERS_FILE": str(path)}


@click.command("up")
@HOST_OPTION
@PORT_OPTION
@CONCURRENCY_OPTION
@click.option("--grace", default=25.0, show_default=True, type=float, help="Seconds to let children stop.")
@click.option(
    "--local-model/--no-local-model",
    default=True,
    show_default=True,
    help="Serve the bundled demo model when no providers file is configured.",
)
@click.pass_context
def up(ctx: click.Context, host: str, port: int, concurrency: int, grace: float, local_model: bool) -> None:
    """Everything on one machine: migrate the database, then run the web server and a worker until Ctrl-C."""
    from backend.cli.context import check_providers_file, cli_app
    from backend.cli.database import upgrade
    from backend.tasks.broker import prepare_broker

    ctx.invoke(upgrade)
    app = cli_app()
    check_providers_file(app)
    # Create the embedded broker's tables now, before the web server and the worker race to.
    prepare_broker(app.extensions["celery"])
    local, env = [], {}
    if not app.config["PROVIDERS_FILE"] and local_model:
        # No providers configured: the bundled demo model keeps the product working offline.
        spec, env = embedded_local_model(app)
        local.append(spec)
        click.echo("switchboard up: no SWITCHBOARD_PROVIDERS_FILE: serving the bundled demo model (Gemma 3 270M)")
    children = local + up_children(host, port, concurrency, env)
    click.echo(f"Switchboard: {base_url(host, port)}/ (Ctrl-C to stop)")
    supervisor = Supervisor(children, grace_seconds=grace, say=lambda line: click.echo(f"switchboard up: {line}"))
    sys.exit(supervisor.run())


COMMANDS = [worker, up]
