"""`GET /api/me`: who the caller is, in which tenant, with which roles."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from backend.auth import authenticated, current_identity
from backend.extensions import db
from backend.models import Tenant
from backend.openapi import describe

bp = Blueprint("me", __name__)

ME_SCHEMA = {
    "type": "object",
    "required": ["tenant_id", "user_id", "name", "roles", "tenant"],
    "properties": {
        "tenant_id": {"type": "string"},
        "user_id": {"type": "string"},
        "name": {"type": "string"},
        "roles": {"type": "array", "items": {"enum": ["user", "tenant_admin"]}},
        "tenant": {
            "type": "object",
            "required": ["name", "status"],
            "properties": {"name": {"type": "string"}, "status": {"enum": ["pending", "active", "disabled"]}},
        },
    },
}


@bp.get("/api/me")
@describe("The caller: tenant, user, roles.", response=ME_SCHEMA, responses={403: "Tenant not onboarded or disabled"})
@authenticated
def me() -> Response:
    """The caller's identity."""
    identity = current_identity()
    tenant = db.session.get(Tenant, identity.tenant_id)
    return jsonify(
        {
            "tenant_id": identity.tenant_id,
            "user_id": identity.user_id,
            "name": identity.name,
            "roles": list(identity.roles),
            "tenant": {"name": tenant.name, "status": tenant.status},
        }
    )
