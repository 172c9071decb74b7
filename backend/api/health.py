"""Liveness and readiness: database, broker and Redis reachable, provider circuits."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from backend.deadlines import run_within_deadline
from backend.extensions import db
from backend.openapi import describe
from backend.tasks.broker import BROKER_CHECK_TIMEOUT_SECONDS, broker_status

# The checks run side by side on threads of their own and get this long, together: a database host that drops
# packets (or a pool whose connections all hang) must make the probe answer "degraded" within seconds, not hang it.
CHECK_DEADLINE_SECONDS = BROKER_CHECK_TIMEOUT_SECONDS + 1.5

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"enum": ["ok", "degraded"]},
        "checks": {
            "type": "object",
            "properties": {
                "db": {"type": "string"},
                "broker": {"type": "string"},
                "redis": {
                    "type": "string",
                    "description": "Redis of rate limits and circuits (REDIS_URL): ok, error or not_configured",
                },
                "providers": {
                    "type": "object",
                    "description": "The circuit of each platform model by ref: closed, open or half_open",
                    "additionalProperties": {"type": "string"},
                },
            },
        },
    },
}


def check_database() -> str:
    """'ok' when a trivial query succeeds."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means the database is not usable; the log has the detail
        log.warning("health: database check failed", exc_info=True)
        return "error"


def check_providers() -> dict[str, str]:
    """The circuit of every platform model, by ref: "closed" (in use), "open" (failing: routing skips it until its
    cooldown or Retry-After ends) or "half_open" (one probe call decides). Tenants' own providers are not listed:
    this route answers anyone. Informational: a provider outage is the same for every replica, so it does not make
    this replica unhealthy; the fallback loop routes around it."""
    from backend.catalog import platform_catalog
    from backend.routing.circuit import circuit_breaker

    try:
        refs = sorted(platform_catalog().models)
        return circuit_breaker(current_app).states(refs) if refs else {}
    except Exception:  # noqa: BLE001 - a broken providers file or circuit store; the log has the detail
        log.warning("health: provider circuits could not be read", exc_info=True)
        return {"error": "unavailable"}


def check_redis() -> str:
    """'ok' when the Redis of rate limits and circuit state answers a PING; 'not_configured' without REDIS_URL."""
    from backend.metering.store import shared_redis

    try:
        client = shared_redis(current_app)
        if client is None:
            return "not_configured"
        client.ping()
        return "ok"
    except Exception:  # noqa: BLE001 - every model call needs it: any failure makes this replica unusable
        log.warning("health: redis check failed", exc_info=True)
        return "error"


def check_broker() -> str:
    """'ok' when a connection to the Celery broker can be established within a couple of seconds."""
    celery_app = current_app.extensions.get("celery")
    if celery_app is None:
        return "not_configured"
    try:
        return broker_status(celery_app)
    except Exception:  # noqa: BLE001 - any failure means the broker is not usable; the log has the detail
        log.warning("health: broker check failed", exc_info=True)
        return "error"


@bp.get("/api/health")
@describe(
    "Service health: database, broker, Redis and provider checks.",
    auth=False,
    response=HEALTH_SCHEMA,
    responses={503: "A dependency is down"},
)
def health() -> tuple[Response, int]:
    """Service health."""
    waiting = {"db": check_database, "broker": check_broker, "redis": check_redis, "providers": check_providers}
    checks = run_within_deadline(waiting, CHECK_DEADLINE_SECONDS, late="timeout")
    if checks["providers"] == "timeout":
        checks["providers"] = {"error": "timeout"}
    healthy = checks["db"] == "ok" and checks["broker"] in ("ok", "not_configured")
    healthy = healthy and checks["redis"] in ("ok", "not_configured")
    status = "ok" if healthy else "degraded"
    return jsonify({"status": status, "checks": checks}), 200 if healthy else 503
