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


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Worker processes [default: CPU count].")
@click.option("--worker-class", type=click.Choice(WORKER_CLASSES), help="Worker model [default: gevent].")
@click.option("--threads", type=click.IntRange(min=1), help="Threads per gthread worker (concurrent streams).")
def run(host: str, port: int, workers: int | None, worker_class: str | None, threads: int | None) -> None:
    """Serve the web app and API with gunicorn."""
    refuse_exposed_dev_mode(host)
    argv = gunicorn_argv(host, port, workers, worker_class, threads)
    # Replace this process: gunicorn's master then receives SIGINT/SIGTERM directly and shuts down gracefully,
    # and starts with nothing (prometheus_client in particular) imported before its multiprocess dir is set.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # noqa: S606 - a fixed argv of our own interpreter, no shell wanted


def refuse_exposed_dev_mode(host: str) -> None:
    """Dev mode signs its own tokens: never serve it on a non-loopback address unless explicitly forced.

    Checked here, before gunicorn starts, because importing the app in gunicorn's master would import ssl before a
    gevent worker can patch it. Requests reaching a dev-mode server on another address are refused as well.
    """
    from flask import Flask

    from backend.auth.dev import DevModeRefused, check_bind_host
    from backend.config import load_config

    app = Flask("backend", instance_relative_config=True, instance_path=os.environ.get("SWITCHBOARD_INSTANCE_PATH"))
    load_config(app, None)
    try:
        check_bind_host(app, host)
    except DevModeRefused as refused:
        raise click.ClickException(str(refused)) from None


COMMANDS = [run]
