"""On-behalf-of access to Microsoft Graph with MSAL, a token cache per (tenant, user), encrypted in the database."""

from __future__ import annotations

import logging

import msal
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.auth.identity import Identity, current_identity, current_user_assertion
from backend.crypto import SecretDecryptionError, secret_box
from backend.errors import ApiError
from backend.extensions import db
from backend.models.token_cache import UserTokenCache

log = logging.getLogger(__name__)

_HTTP_CACHE_EXTENSION = "switchboard.auth.msal_http_cache"
# Entra answers these when the user must sign in again or consent (MFA, conditional access, new scopes).
INTERACTION_ERRORS = ("interaction_required", "consent_required", "login_required", "invalid_grant")


def graph_scopes(*names: str) -> list[str]:
    """Fully qualified Graph scopes, e.g. graph_scopes("User.Read") or graph_scopes("Files.Read")."""
    base = current_app.config["GRAPH_BASE_URL"].rstrip("/")
    return [f"{base}/{name}" for name in names]


def graph_token(scopes: list[str], identity: Identity | None = None, assertion: str | None = None) -> str:
    """A Graph access token for the caller: from the user's cache if possible, else by an OBO exchange."""
    identity = identity or current_identity()
    assertion = assertion or current_user_assertion()
    cache = _load_cache(identity)
    client = _client(identity.tenant_id, cache)
    result = None
    accounts = client.get_accounts()
    if accounts:
        result = client.acquire_token_silent(scopes, account=accounts[0])
    if not result:
        if not assertion:
            raise _interaction_required(None)
        result = client.acquire_token_on_behalf_of(assertion, scopes)
    if cache.has_state_changed:
        _save_cache(identity, cache)
    if "access_token" in result:
        return result["access_token"]
    error = result.get("error")
    log.warning("graph token refused", extra={"entra_error": error, "correlation_id": result.get("correlation_id")})
    if error in INTERACTION_ERRORS:
        raise _interaction_required(result.get("claims"))
    raise ApiError(502, "graph_token_failed", "Microsoft Entra did not issue a Graph token.")


def _interaction_required(claims: str | None) -> ApiError:
    return ApiError(
        401,
        "interaction_required",
        "Sign in again to grant Switchboard access to Microsoft Graph.",
        details={"claims": claims},
    )


def _client(tenant_id: str, cache: msal.SerializableTokenCache) -> msal.ConfidentialClientApplication:
    """An MSAL client bound to the tenant and to one user's cache."""
    app = current_app
    config = app.config
    if not config["ENTRA_CLIENT_ID"] or not config["ENTRA_CLIENT_SECRET"]:
        raise ApiError(503, "graph_unavailable", "Microsoft Graph access is not configured on this server.")
    # Discovery responses (never tokens) are shared between the per-user clients of this process.
    http_cache = app.extensions.setdefault(_HTTP_CACHE_EXTENSION, {})
    return msal.ConfidentialClientApplication(
        config["ENTRA_CLIENT_ID"],
        client_credential=config["ENTRA_CLIENT_SECRET"],
        authority=f"{config['ENTRA_AUTHORITY'].rstrip('/')}/{tenant_id}",
        token_cache=cache,
        http_client=config.get("ENTRA_HTTP_CLIENT"),
        http_cache=http_cache,
        instance_discovery=False,
        timeout=float(config["ENTRA_HTTP_TIMEOUT_SECONDS"]),
    )


def _load_cache(identity: Identity) -> msal.SerializableTokenCache:
    cache = msal.SerializableTokenCache()
    with Session(db.engine) as session:
        row = session.get(UserTokenCache, (identity.tenant_id, identity.object_id))
        if row is not None:
            try:
                cache.deserialize(secret_box().decrypt(row.cache_encrypted))
            except SecretDecryptionError:
                log.warning("token cache unreadable (secret key changed?); starting afresh")
    return cache


def _save_cache(identity: Identity, cache: msal.SerializableTokenCache) -> None:
    """Write the user's cache in its own short transaction, so the request's session is left alone."""
    encrypted = secret_box().encrypt(cache.serialize())
    with Session(db.engine) as session:
        row = session.execute(
            select(UserTokenCache).where(
                UserTokenCache.tenant_id == identity.tenant_id, UserTokenCache.object_id == identity.object_id
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(
                UserTokenCache(tenant_id=identity.tenant_id, object_id=identity.object_id, cache_encrypted=encrypted)
            )
        else:
            row.cache_encrypted = encrypted
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # a parallel request of the same user saved its cache first; either is valid
