"""Switchboard's backend: `create_app` assembles the Flask app from its parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package stays cheap: gunicorn's master imports backend.log_format before forking
    from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, then each part's init_app, then the API blueprints."""
    import os

    from flask import Flask

    from backend import api, auth, errors, logs, metrics, tenancy
    from backend.config import load_config
    from backend.extensions import db
    from backend.skills import init_app as skills_init_app
    from backend.tasks.celery_app import celery_init_app

    if test_config is not None:
        instance_path = test_config.get("INSTANCE_PATH")
    else:
        instance_path = os.environ.get("SWITCHBOARD_INSTANCE_PATH")
    # No static folder: the add-in and the admin console have their own blueprint (backend/api/addin_static.py).
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path, static_folder=None)
    load_config(app, test_config)
    logs.init_app(app)
    errors.init_app(app)
    metrics.init_app(app)
    db.init_app(app)
    tenancy.init_app(app)
    auth.init_app(app)
    celery_init_app(app)
    skills_init_app(app)
    api.init_app(app)
    return app
