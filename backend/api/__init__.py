"""The HTTP API: one blueprint per area, registered here."""

from __future__ import annotations

from flask import Flask

from backend.api import health, meta


def init_app(app: Flask) -> None:
    """Register every API blueprint."""
    app.register_blueprint(health.bp)
    app.register_blueprint(meta.bp)
