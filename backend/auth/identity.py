"""Who is calling: validate the bearer token, resolve tenant, user and roles, and guard views with one decorator."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.auth import tokens
from backend.auth.keys import signing_keys, token_policy
from backend.auth.signing_keys import SigningKeysUnavailable, UnknownSigningKey
from backend.auth.ttlcache import hot_cache
from backend.errors import ApiError
from backend.extensions import db
from backend.models import Tenant, User
from backend.tenancy import bind_tenant

log = logging.getLogger(__name__)

ADMIN_APP_ROLE = "Tenant.Admin"
ROLES = ("user", "tenant_admin")
# last_seen_at is refreshed at most this often, so a busy user does not cost a write per request.
LAST_SEEN_RESOLUTION = timedelta(minutes=15)
# A verified token is trusted from the cache at most this long (and never past its exp): bounds how long a token
# verified with a signing key that has since been withdrawn from the JWKS keeps working in a process.
VERIFIED_TOKEN_CACHE_SECONDS = 300
# Entra's signing keys are the same for every tenant: a token of a tenant not onboarded is checked against these.
COMMON_KEYS_TENANT = "common"


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
    tenant_id, claims = _verified(token)
    tenant = _tenant_status(tenant_id)  # cached: the tenant was checked to be onboarded when the token was verified
    _require_active(tenant)  # after the signature: only a genuine token learns its tenant's status
    user = _known_user(tenant.id, claims["oid"], _display_name(claims))
    roles = ["user"]
    app_roles = claims.get("roles") if isinstance(claims.get("roles"), list) else []
    if ADMIN_APP_ROLE in app_roles or user.admin_granted:
        roles.append("tenant_admin")
    g.identity = Identity(tenant.id, user.id, user.object_id, user.display_name, tuple(roles))
    g._user_assertion = token
    bind_tenant(tenant.id)
    return g.identity


@dataclass(frozen=True)
class TenantStatus:
    """What a request needs of its tenant row: its id and status."""

    id: str
    status: str


@dataclass(frozen=True)
class KnownUser:
    """What a request needs of its user row."""

    id: str
    object_id: str
    display_name: str
    admin_granted: bool


def _verified(token: str) -> tuple[str, dict]:
    """The tenant and verified claims of a token; a token verified before is taken from the cache until it expires.

    The cache key is the SHA-256 of the whole token, so only the very same signed bytes hit it, with the policy it was
    verified against (the apps of one process share the cache: another audience verifies for itself); an entry lives
    until the token's exp (without the clock leeway) and at most VERIFIED_TOKEN_CACHE_SECONDS.
    """
    policy = token_policy()
    cache_key = (hashlib.sha256(token.encode()).digest(), policy)
    cache = hot_cache(current_app, "verified_tokens")
    hit = cache.get(cache_key)
    now = time.time()
    if hit is not None and hit[1]["exp"] > now:
        return hit
    try:
        unverified = tokens.read_unverified(token)
        onboarded = _onboarded_tenant(unverified.tenant_id)
        # A stranger's token is checked against Entra's common key set (one URL, whatever its tid): its tid never
        # makes us call out, and only a genuine token learns that its tenant is not onboarded (no enumeration).
        key_tenant = unverified.tenant_id if onboarded else COMMON_KEYS_TENANT
        key = signing_keys().key_for(key_tenant, unverified.key_id)
        claims = tokens.verify(token, key, policy, unverified.tenant_id)
    except tokens.InvalidToken as exc:
        raise _refused(exc.reason) from None
    except UnknownSigningKey:
        raise _refused("unknown signing key") from None
    except SigningKeysUnavailable:
        log.warning("token refused: signing keys unavailable")
        raise ApiError(503, "auth_unavailable", "The identity provider cannot be reached; try again.") from None
    if not onboarded:
        log.info("token refused: tenant not onboarded", extra={"tenant_id": unverified.tenant_id})
        raise ApiError(403, "tenant_not_onboarded", "Your organisation has not been onboarded to Switchboard.")
    verified = (unverified.tenant_id, claims)
    if isinstance(claims.get("exp"), int | float):
        cache.put(cache_key, verified, ttl=min(claims["exp"] - now, VERIFIED_TOKEN_CACHE_SECONDS))
    return verified


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


def _tenant_status(tenant_id: str) -> TenantStatus:
    """The status of the verified token's tenant (onboarded: `_verified` checked it)."""
    status = _onboarded_tenant(tenant_id)
    if status is None:  # removed since its token was verified and cached
        raise ApiError(403, "tenant_not_onboarded", "Your organisation has not been onboarded to Switchboard.")
    return status


def _onboarded_tenant(tenant_id: str) -> TenantStatus | None:
    """The tenant's status, or None if it was never onboarded; read at most every HOT_CACHE_SECONDS per process:
    disabling a tenant takes that long."""
    cache = hot_cache(current_app, "tenant_status")
    status = cache.get(tenant_id)
    if status is None:
        tenant = db.session.get(Tenant, tenant_id, populate_existing=True)
        if tenant is None:
            return None
        status = TenantStatus(tenant.id, tenant.status)
        cache.put(tenant_id, status)
    return status


def _require_active(tenant: TenantStatus) -> None:
    """403 for a pending or disabled tenant."""
    if tenant.status != "active":
        log.info("token refused: tenant not active", extra={"tenant_id": tenant.id, "status": tenant.status})
        raise ApiError(403, f"tenant_{tenant.status}", f"Your organisation's access is {tenant.status}.")


def _known_user(tenant_id: str, object_id: str, name: str) -> KnownUser:
    """The caller's user, from the database at most every HOT_CACHE_SECONDS per process (role grants take that)."""
    cache = hot_cache(current_app, "users")
    key = (tenant_id, object_id, name)
    user = cache.get(key)
    if user is None:
        row = _upsert_user(tenant_id, object_id, name)
        user = KnownUser(row.id, row.object_id, row.display_name, bool(row.admin_granted))
        cache.put(key, user)
    return user


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
