"""Tenant administration API: settings, usage and audit. Only the tenant's admins, only their own tenant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, current_app, jsonify, request

from backend.admin import audit
from backend.admin.settings import KnownNames, apply_patch, settings_document
from backend.admin.settings_schema import SETTINGS_PATCH_SCHEMA
from backend.api.bodies import json_body
from backend.auth import current_identity, require_role
from backend.errors import ApiError
from backend.extensions import db
from backend.openapi import describe

bp = Blueprint("admin", __name__, url_prefix="/api/admin")
GROUPINGS = ("user", "skill", "model", "day")
MAX_RANGE_DAYS = 366  # a leap year
ADMIN_ERRORS = {403: "Not an admin of this tenant", 422: "Invalid settings", 409: "Version conflict"}


def known_names(tenant_id: str) -> KnownNames:
    """Platform providers, the tenant's current catalog, and every installed skill."""
    from backend.catalog import platform_catalog, tenant_catalog

    skills = set(current_app.extensions["skills"].skills)
    return KnownNames(platform_catalog(), tenant_id, tenant_catalog(tenant_id), skills)


@bp.get("/tenant")
@require_role("tenant_admin")
@describe(
    "The tenant's settings: providers (keys never shown), routing, data policy, budgets, limits, skills.",
    response={"type": "object"},
    responses={403: ADMIN_ERRORS[403]},
    tags=["admin"],
)
def get_tenant() -> Response:
    """Read the tenant's settings document."""
    return jsonify(settings_document(current_identity().tenant_id))


@bp.patch("/tenant")
@require_role("tenant_admin")
@describe(
    "Change the tenant's settings; top-level keys replace, `api_key` is write-only. Audited.",
    request=SETTINGS_PATCH_SCHEMA,
    response={"type": "object"},
    responses=ADMIN_ERRORS,
    tags=["admin"],
)
def patch_tenant() -> Response:
    """Change the tenant's settings."""
    identity = current_identity()
    patch = json_body()
    actor = f"{audit.USER_ACTOR}{identity.object_id}"
    document = apply_patch(identity.tenant_id, patch, actor, known_names(identity.tenant_id))
    return jsonify(document)


@bp.get("/usage")
@require_role("tenant_admin")
@describe(
    "Requests, tokens and cost of the tenant per UTC day, user, skill or model, with their exact totals.",
    query={
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "group_by": {"enum": list(GROUPINGS)},
    },
    response={"type": "object"},
    responses={400: "Bad range or grouping"},
    tags=["admin"],
)
def usage() -> Response:
    """Usage of the tenant over a date range."""
    from backend.metering.usage import usage_report

    start, end = _date_range()
    group_by = request.args.get("group_by", "day")
    if group_by not in GROUPINGS:
        raise ApiError(400, "bad_request", f"group_by must be one of {', '.join(GROUPINGS)}.")
    report = usage_report(db.engine, current_identity().tenant_id, start, end, group_by)
    to_day = (end - timedelta(days=1)).date().isoformat()
    return jsonify({"from": start.date().isoformat(), "to": to_day, "group_by": group_by, **report})


@bp.get("/audit")
@require_role("tenant_admin")
@describe(
    "Who changed what and when, newest first (no secret values); `next` is the `before` of the next page.",
    query={"limit": {"type": "integer"}, "before": {"type": "string"}},
    response={"type": "object"},
    tags=["admin"],
)
def audit_log() -> Response:
    """The tenant's audit log."""
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 500)
    events, cursor = audit.list_events(current_identity().tenant_id, limit, request.args.get("before"))
    return jsonify({"events": events, "next": cursor})


def _date_range() -> tuple[datetime, datetime]:
    """[from, to] as whole UTC days; defaults to the last 30 days; `to` is inclusive."""
    try:
        to_day = date.fromisoformat(request.args["to"]) if request.args.get("to") else datetime.now(UTC).date()
        from_day = date.fromisoformat(request.args["from"]) if request.args.get("from") else to_day - timedelta(29)
        end = datetime.combine(to_day + timedelta(days=1), time.min, UTC)
    except ValueError as exc:
        raise ApiError(400, "bad_request", "from and to must be dates like 2026-11-28.") from exc
    except OverflowError as exc:  # the day after 9999-12-31, or a default start before year 1, is no date
        raise ApiError(400, "bad_request", "from and to must lie between 0001-01-01 and 9999-12-30.") from exc
    if from_day > to_day or (to_day - from_day).days + 1 > MAX_RANGE_DAYS:  # `to` is inclusive
        raise ApiError(400, "bad_request", f"The range must run forward and span at most {MAX_RANGE_DAYS} days.")
    return datetime.combine(from_day, time.min, UTC), end
