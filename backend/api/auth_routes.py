"""Onboarding and dev sign-in: the admin-consent URL and its callback, and the loopback-only dev token endpoint."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from backend.auth import current_identity, require_role
from backend.auth.dev import DEFAULT_DEV_USER, ensure_dev_tenant, is_loopback, mint_dev_token
from backend.auth.keys import is_dev_mode
from backend.auth.onboarding import OnboardingError, admin_consent_url, record_consent
from backend.errors import ApiError
from backend.openapi import describe

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

DEV_TOKEN_LIFETIME_SECONDS = 3600


def consent_redirect_uri() -> str:
    """Where Entra sends the administrator back: configured, or this server's callback URL."""
    return current_app.config["ENTRA_CONSENT_REDIRECT_URI"] or url_for("auth.consent_callback", _external=True)


@bp.get("/api/auth/consent-url")
@describe(
    "The admin-consent URL for the caller's tenant (to grant newly required permissions).",
    response={"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}},
    responses={403: "Not a tenant admin"},
)
@require_role("tenant_admin")
def consent_url() -> Response:
    """The admin-consent URL of the caller's tenant."""
    try:
        url = admin_consent_url(current_identity().tenant_id, consent_redirect_uri())
    except OnboardingError as exc:
        raise ApiError(503, "onboarding_unavailable", str(exc)) from None
    return jsonify({"url": url})


@bp.get("/api/auth/consent/callback")
@describe(
    "Where Entra returns after an administrator's consent; records the tenant (pending or active).",
    auth=False,
    query={"tenant": {"type": "string"}, "state": {"type": "string"}, "admin_consent": {"type": "string"}},
    response={"type": "object", "properties": {"tenant_id": {"type": "string"}, "status": {"type": "string"}}},
    responses={400: "Consent refused, or an invalid state"},
)
def consent_callback() -> Response:
    """Record an administrator's consent."""
    if request.args.get("error") or request.args.get("admin_consent", "").lower() != "true":
        log.info("admin consent not granted", extra={"entra_error": request.args.get("error", "")[:64]})
        raise ApiError(400, "consent_not_granted", "The administrator did not grant consent.")
    try:
        tenant = record_consent(request.args.get("state", ""), request.args.get("tenant", ""))
    except OnboardingError as exc:
        raise ApiError(400, "invalid_consent", str(exc)) from None
    return jsonify({"tenant_id": tenant.id, "status": tenant.status})


@bp.post("/api/auth/dev-token")
@describe(
    "Dev mode only, loopback only: a locally signed access token for a dev user.",
    auth=False,
    request={
        "type": "object",
        "properties": {"tenant_id": {"type": "string"}, "user": {"type": "string"}, "roles": {"type": "array"}},
    },
    response={"type": "object", "properties": {"access_token": {"type": "string"}, "expires_in": {"type": "integer"}}},
    responses={404: "Not in dev mode, or not called from this machine"},
)
def dev_token() -> Response:
    """Mint a dev token for the add-in running on this machine."""
    # Behind a proxy every caller looks local: a forwarded request is never a local one.
    forwarded = any(h in request.headers for h in ("X-Forwarded-For", "Forwarded", "X-Real-IP"))
    if not is_dev_mode() or forwarded or not is_loopback(request.remote_addr or ""):
        raise ApiError(404, "not_found", "No such resource.")
    body = request.get_json(silent=True) or {}
    tenant_id = str(body.get("tenant_id") or current_app.config["AUTH_DEV_TENANT_ID"])
    user = str(body.get("user") or DEFAULT_DEV_USER)[:200]
    requested_roles = body.get("roles") if isinstance(body.get("roles"), list) else []
    roles = tuple(r for r in requested_roles if r == "tenant_admin")
    try:
        if tenant_id == current_app.config["AUTH_DEV_TENANT_ID"]:
            ensure_dev_tenant(tenant_id)
        token = mint_dev_token(tenant_id, user, roles, DEV_TOKEN_LIFETIME_SECONDS)
    except ValueError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return jsonify({"access_token": token, "token_type": "Bearer", "expires_in": DEV_TOKEN_LIFETIME_SECONDS})
