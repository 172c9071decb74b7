"""Who is calling: validate the bearer token, resolve tenant, user and roles, and guard views with one decorator."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.auth import tokens
from backend.auth.keys import signing_keys, token_policy
from backend.auth.signing_keys import SigningKeysUnavailable, UnknownSigningKey
from backend.errors import ApiError
from backend.extensions import db
from backend.models import Tenant, User
from backend.tenancy import bind_tenant

log = logging.getLogger(__name__)

ADMIN_APP_ROLE = "Tenant.Admin"
ROLES = ("user", "tenant_admin")
# last_seen_at is refreshed at most this often, so a busy user does not cost a write per request.
LAST_SEEN_RESOLUTION = timedelta(minutes=15)


@dataclass(frozen=True)
class Identity:
    """The authenticated caller: tenant, user row id, Entra object id, display name and roles."""

    tenant_id: str
    user_id: str
    object_id: str
    name: str
    roles: tuple[str, ...]

    def has_role(self, role: str) -> bool:
        """True when the caller holds this role."""
        return role in self.roles


def current_identity() -> Identity:
    """The identity of the current request; only valid inside a view guarded by `authenticated`/`require_role`."""
    identity = g.get("identity")
    if identity is None:
        raise RuntimeError("current_identity() outside an authenticated request")
    return identity


def current_user_assertion() -> str | None:
    """The caller's own access token, kept only for on-behalf-of exchanges (never logged)."""
    return g.get("_user_assertion")


def authenticated(view: Callable) -> Callable:
    """Require a valid token of an active tenant (role `user`)."""
    return require_role("user")(view)


def require_role(role: str) -> Callable[[Callable], Callable]:
    """Require a valid token and this role; 401 without a valid token, 403 without the role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            identity = authenticate_request()
            if not identity.has_role(role):
                raise ApiError(403, "forbidden", f"This needs the {role} role.")
            return view(*args, **kwargs)

        guarded.required_role = role
        return guarded

    return decorate


def authenticate_request() -> Identity:
    """Validate the request's bearer token and bind identity and tenant scope to the request."""
    if g.get("identity") is not None:
        return g.identity
    token = _bearer_token()
    try:
        unverified = tokens.read_unverified(token)
        # Keys are fetched only for onboarded tenants: a stranger's tid never makes us call out.
        tenant = _onboarded_tenant(unverified.tenant_id)
        key = signing_keys().key_for(unverified.tenant_id, unverified.key_id)
        claims = tokens.verify(token, key, token_policy(), unverified.tenant_id)
    except tokens.InvalidToken as exc:
        raise _refused(exc.reason) from None
    except UnknownSigningKey:
        raise _refused("unknown signing key") from None
    except SigningKeysUnavailable:
        log.warning("token refused: signing keys unavailable")
        raise ApiError(503, "auth_unavailable", "The identity provider cannot be reached; try again.") from None
    _require_active(tenant)  # after the signature: only a genuine token learns its tenant's status
    user = _upsert_user(tenant.id, claims["oid"], _display_name(claims))
    roles = ["user"]
    app_roles = claims.get("roles") if isinstance(claims.get("roles"), list) else []
    if ADMIN_APP_ROLE in app_roles or user.admin_granted:
        roles.append("tenant_admin")
    g.identity = Identity(tenant.id, user.id, user.object_id, user.display_name, tuple(roles))
    g._user_assertion = token
    bind_tenant(tenant.id)
    return g.identity


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "A valid access token is required.", headers=_challenge())
    return token


def _refused(reason: str) -> ApiError:
    # The reason is one of our fixed phrases; the token itself is never logged.
    log.info("token refused", extra={"reason": reason})
    return ApiError(401, "invalid_token", "The access token is not valid.", headers=_challenge("invalid_token"))


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="switchboard"' + (f', error="{error}"' if error else "")
    return {"WWW-Authenticate": value}


def _onboarded_tenant(tenant_id: str) -> Tenant:
    """The tenant, read on every request so that disabling it takes effect at once."""
    tenant = db.session.get(Tenant, tenant_id, populate_existing=True)
    if tenant is None:
        log.info("token refused: tenant not onboarded", extra={"tenant_id": tenant_id})
        raise ApiError(403, "tenant_not_onboarded", "Your organisation has not been onboarded to Switchboard.")
    return tenant


def _require_active(tenant: Tenant) -> None:
    """403 for a pending or disabled tenant."""
    if tenant.status != "active":
        log.info("token refused: tenant not active", extra={"tenant_id": tenant.id, "status": tenant.status})
        raise ApiError(403, f"tenant_{tenant.status}", f"Your organisation's access is {tenant.status}.")


def _display_name(claims: dict) -> str:
    name = claims.get("name") or claims.get("preferred_username") or ""
    return str(name)[:200]


def _upsert_user(tenant_id: str, object_id: str, name: str) -> User:
    """The user row for (tid, oid), created on first sight; never matched by e-mail."""
    session = db.session
    statement = select(User).where(User.tenant_id == tenant_id, User.object_id == object_id)
    user = session.execute(statement).scalar_one_or_none()
    now = datetime.now(UTC)
    if user is None:
        user = User(tenant_id=tenant_id, object_id=object_id, display_name=name, last_seen_at=now)
        session.add(user)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # a parallel first request created it
            user = session.execute(statement).scalar_one()
        return user
    last_seen = user.last_seen_at if user.last_seen_at.tzinfo else user.last_seen_at.replace(tzinfo=UTC)
    if (name and user.display_name != name) or now - last_seen > LAST_SEEN_RESOLUTION:
        user.display_name = name or user.display_name
        user.last_seen_at = now
        session.commit()
    return user
