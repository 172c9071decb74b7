"""Attach Celery to the Flask app: every task runs inside the app context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from kombu.transport import sqlalchemy as kombu_sqlalchemy


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from Flask config, with a task class that pushes the Flask app context."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app.config))
    if app.config["BROKER_URL"].startswith("sqla+"):
        # The SQL transport polls; its interval is a class attribute, not a transport option (DESIGN.md).
        kombu_sqlalchemy.Transport.polling_interval = float(app.config["CELERY_POLL_INTERVAL"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def celery_settings(config: dict) -> dict:
    """Celery settings derived from Switchboard's configuration."""
    return {
        "broker_url": config["BROKER_URL"],
        "result_backend": config["RESULT_BACKEND"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "imports": ["backend.tasks.builtin"],
    }
