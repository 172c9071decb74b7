"""Attach Celery to the Flask app: every task runs inside the app context."""

from __future__ import annotations

from celery import Celery, Task
from celery import current_app as current_celery_app
from celery.signals import worker_process_init
from flask import Flask
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from backend.database import postgres_connect_args
from backend.extensions import db

# SQLite's own busy timeout is 5 s; the web process, the worker and its children share one broker file, so a writer
# may wait longer than that behind a poll without anything being wrong.
SQLITE_BUSY_TIMEOUT_SECONDS = 30

REDIS_SCHEMES = ("redis://", "rediss://", "redis+socket://", "sentinel://")
# Without a socket timeout, a publish to a Redis broker host that accepts and never answers (or that vanished without
# closing the connection) waits forever, and so does the user submitting a job (kombu's own advice). Far above the
# 1 s a worker's BRPOP blocks for.
REDIS_SOCKET_TIMEOUT_SECONDS = 10.0

# Modules whose tasks every worker registers; a package that defines tasks adds its module here.
TASK_MODULES = ["backend.tasks.builtin", "backend.tasks.jobs"]


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from Flask config, with a task class that pushes the Flask app context."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app.config))
    if is_sql_broker(app.config["BROKER_URL"]):
        # The SQL transport polls; its interval is a class attribute, not a transport option (DESIGN.md).
        kombu_sqlalchemy.Transport.polling_interval = float(app.config["CELERY_POLL_INTERVAL"])
    celery_app.flask_app = app
    celery_app.set_default()
    # One receiver for every app (dispatch_uid); it looks up whichever app the forked worker child runs.
    worker_process_init.connect(dispose_inherited_engines, weak=False, dispatch_uid="switchboard.dispose_engines")
    app.extensions["celery"] = celery_app
    return celery_app


def celery_settings(config: dict) -> dict:
    """Celery settings derived from Switchboard's configuration."""
    settings = {
        "broker_url": config["BROKER_URL"],
        "result_backend": config["RESULT_BACKEND"],
        # A task is acknowledged only after it finished, and a task whose worker died goes back to the queue:
        # tasks must therefore be idempotent (they take ids and load their own rows).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        # Logging is configured by backend.logs (JSON lines); Celery must not replace the root handlers.
        "worker_hijack_root_logger": False,
        "imports": list(TASK_MODULES),
    }
    broker, results = str(config["BROKER_URL"]), str(config["RESULT_BACKEND"])
    if is_sql_broker(broker):
        # Transport options of kombu's SQL transport are create_engine() arguments (kombu/transport/sqlalchemy:
        # `create_engine(url, **transport_options)`, less its own few).
        settings["broker_transport_options"] = {"connect_args": sql_connect_args(broker.split("+", 1)[1])}
    elif broker.startswith(REDIS_SCHEMES):
        timeout = REDIS_SOCKET_TIMEOUT_SECONDS
        settings["broker_transport_options"] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if results.startswith("db+"):
        settings["database_engine_options"] = {"connect_args": sql_connect_args(results.removeprefix("db+"))}
    return settings


def sql_connect_args(url: str) -> dict:
    """The DBAPI arguments of the SQL broker's and result store's engines, like the app's own (backend.database):
    SQLite's longer busy timeout; PostgreSQL's connect timeout and keepalives, or a silent database host would hang
    a worker's poll or the web process enqueuing a job."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        return {}  # not a URL SQLAlchemy reads: Celery reports it when it first connects, as before
    if backend == "sqlite":
        return {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    return postgres_connect_args(url)


def is_sql_broker(url: str) -> bool:
    """True for kombu's SQLAlchemy transport (`sqla+...` or `sqlalchemy+...`), which polls a database."""
    return url.startswith(("sqla+", "sqlalchemy+"))


def dispose_inherited_engines(**_: object) -> None:
    """In a freshly forked worker child, drop database connections inherited from the parent process."""
    # A SQLite or PostgreSQL connection must never be shared across fork; close=False leaves the parent's intact.
    flask_app = getattr(current_celery_app, "flask_app", None)
    if flask_app is not None:
        with flask_app.app_context():
            db.engine.dispose(close=False)
            db.autocommit_engine.dispose(close=False)
    for engine, _session in kombu_sqlalchemy.Channel._engines.values():
        engine.dispose(close=False)
