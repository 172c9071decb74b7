"""The HTTP API: one blueprint per area, registered here."""

from __future__ import annotations

from flask import Flask

from backend.api import addin_static, admin, admin_providers, auth_routes, health, jobs, me, meta, skills


def init_app(app: Flask) -> None:
    """Register every API blueprint."""
    app.register_blueprint(health.bp)
    app.register_blueprint(meta.bp)
    app.register_blueprint(me.bp)
    app.register_blueprint(skills.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_providers.bp)
    app.register_blueprint(auth_routes.bp)
    app.register_blueprint(addin_static.bp)
    app.register_blueprint(jobs.bp)
    if app.config.get("ENABLE_DIAGNOSTICS"):
        from backend.api import diagnostics  # imported only when enabled: it has no authentication

        app.register_blueprint(diagnostics.bp)
