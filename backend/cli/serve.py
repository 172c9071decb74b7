"""`switchboard run`: the web app and API under gunicorn, configured by backend/gunicorn_conf.py."""

from __future__ import annotations

import os
import sys

import click

from backend.gunicorn_conf import worker_class as gevent_worker_class

WORKER_CLASSES = ("gthread", "gevent")
# gevent means the configuration's own gevent worker (backend/gevent_worker.py: one direct send per write).
WORKER_CLASS_PATHS = {"gevent": gevent_worker_class}


def gunicorn_argv(
    host: str, port: int, workers: int | None, worker_class: str | None, threads: int | None
) -> list[str]:
    """The gunicorn command line: our config module, then the operator's overrides."""
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:backend.gunicorn_conf", "--bind", f"{host}:{port}"]
    if workers is not None:
        argv += ["--workers", str(workers)]
    if worker_class is not None:
        argv += ["--worker-class", WORKER_CLASS_PATHS.get(worker_class, worker_class)]
    if threads is not None:
        argv += ["--threads", str(threads)]
    return [*argv, "backend.wsgi:app"]


# The web server's address, for `run` and `up` alike.
HOST_OPTION = click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface)."
)
PORT_OPTION = click.option("--port", default=8000, show_default=True, type=int, help="TCP port to listen on.")


@click.command("run")
@HOST_OPTION
@PORT_OPTION
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Worker processes [default: CPU count].")
@click.option("--worker-class", type=click.Choice(WORKER_CLASSES), help="Worker model [default: gevent].")
@click.option("--threads", type=click.IntRange(min=1), help="Threads per gthread worker (concurrent streams).")
def run(host: str, port: int, workers: int | None, worker_class: str | None, threads: int | None) -> None:
    """Serve the web app and API with gunicorn."""
    check_before_serving(host)
    argv = gunicorn_argv(host, port, workers, worker_class, threads)
    # Replace this process: gunicorn's master then receives SIGINT/SIGTERM directly and shuts down gracefully,
    # and starts with nothing (prometheus_client in particular) imported before its multiprocess dir is set.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # noqa: S606 - a fixed argv of our own interpreter, no shell wanted


def check_before_serving(host: str) -> None:
    """Build the app once here, so that a configuration it cannot start with ends `run` with one clear line instead of
    every gunicorn worker failing to boot with a traceback; refuse a broken providers file; and refuse dev mode on a
    non-loopback address (dev mode signs its own tokens) unless explicitly forced.

    Here, before the exec: importing the app in gunicorn's master would import ssl before a gevent worker can patch
    it, and this process's imports are gone once gunicorn replaces it. Requests reaching a dev-mode server on another
    address are refused as well.
    """
    from backend.auth.dev import DevModeRefused, check_bind_host
    from backend.cli.context import check_providers_file, cli_app

    app = cli_app()
    check_providers_file(app)
    try:
        check_bind_host(app, host)
    except DevModeRefused as refused:
        raise click.ClickException(str(refused)) from None


COMMANDS = [run]
