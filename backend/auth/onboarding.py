"""Onboarding a tenant: the admin-consent URL, its signed state, and recording consent and status changes."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from backend.auth.tokens import GUID
from backend.crypto import configured_secret_keys
from backend.extensions import db
from backend.models import AuditEvent, Tenant
from backend.models.tenancy import TENANT_STATUSES

_STATE_SALT = "switchboard.admin-consent"
STATE_MAX_AGE_SECONDS = 7 * 24 * 3600


class OnboardingError(Exception):
    """The consent callback or an operator command cannot be honoured."""


def _serializer() -> URLSafeTimedSerializer:
    """Signs with SECRET_KEY; also accepts a state signed with one of SECRET_KEY_FALLBACKS, so consent links issued
    before a key rotation keep working for their week (itsdangerous signs with the last key of the list)."""
    return URLSafeTimedSerializer(list(reversed(configured_secret_keys())), salt=_STATE_SALT)


def admin_consent_url(tenant_id: str, redirect_uri: str) -> str:
    """The URL a tenant's administrator opens to consent; its state names the tenant and is signed by us."""
    if not GUID.match(tenant_id):
        raise OnboardingError("the tenant id must be a GUID (lower case)")
    config = current_app.config
    if not config["ENTRA_CLIENT_ID"]:
        raise OnboardingError("SWITCHBOARD_ENTRA_CLIENT_ID is not configured")
    query = {
        "client_id": config["ENTRA_CLIENT_ID"],
        "redirect_uri": redirect_uri,
        "state": _serializer().dumps({"tid": tenant_id}),
    }
    return f"{config['ENTRA_AUTHORITY'].rstrip('/')}/{tenant_id}/adminconsent?{urlencode(query)}"


def tenant_from_state(state: str) -> str:
    """The tenant id inside a state we signed, if it is recent enough."""
    try:
        return _serializer().loads(state, max_age=STATE_MAX_AGE_SECONDS)["tid"]
    except (BadSignature, KeyError, TypeError):
        raise OnboardingError("the consent state is not valid or has expired") from None


def record_consent(state: str, tenant_id: str) -> Tenant:
    """Record an admin's consent: the tenant appears with ONBOARDING_DEFAULT_STATUS; a disabled one stays disabled."""
    if tenant_from_state(state) != tenant_id:
        raise OnboardingError("the consent is for another tenant than the one invited")
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        status = current_app.config["ONBOARDING_DEFAULT_STATUS"]
        tenant = Tenant(id=tenant_id, name=tenant_id, status=status)
        db.session.add(tenant)
        db.session.flush()
        _audit(tenant_id, "entra:admin-consent", "tenant.consented", None, {"status": status})
        db.session.commit()
    return tenant


def add_tenant(tenant_id: str, name: str, status: str = "active", actor: str = "operator:cli") -> Tenant:
    """Create a tenant, or rename an existing one (its status is left as it is)."""
    if not GUID.match(tenant_id):
        raise OnboardingError("the tenant id must be a GUID (lower case)")
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        tenant = Tenant(id=tenant_id, name=name, status=status)
        db.session.add(tenant)
        db.session.flush()
        _audit(tenant_id, actor, "tenant.added", None, {"name": name, "status": status})
    elif tenant.name != name:
        _audit(tenant_id, actor, "tenant.renamed", {"name": tenant.name}, {"name": name})
        tenant.name = name
    db.session.commit()
    return tenant


def set_tenant_status(tenant_id: str, status: str, actor: str = "operator:cli") -> Tenant:
    """Enable, disable or park a tenant; its users feel it on their next request."""
    if status not in TENANT_STATUSES:
        raise OnboardingError(f"status must be one of {', '.join(TENANT_STATUSES)}")
    tenant = _existing(tenant_id)
    if tenant.status != status:
        _audit(tenant_id, actor, "tenant.status", {"status": tenant.status}, {"status": status})
        tenant.status = status
        db.session.commit()
    return tenant


def grant_admin(tenant_id: str, object_id: str, granted: bool = True, actor: str = "operator:cli"):
    """Grant (or revoke) tenant_admin to a user by object id; the user row is created if never seen."""
    from backend.models import User

    _existing(tenant_id)
    if not GUID.match(object_id):
        raise OnboardingError("the object id must be a GUID (lower case)")
    user = db.session.query(User).filter_by(tenant_id=tenant_id, object_id=object_id).one_or_none()
    if user is None:
        user = User(tenant_id=tenant_id, object_id=object_id, display_name="")
        db.session.add(user)
    if user.admin_granted != granted:
        _audit(tenant_id, actor, "user.admin_granted", {"admin_granted": not granted}, {"admin_granted": granted})
        user.admin_granted = granted
    db.session.commit()
    return user


def _existing(tenant_id: str) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise OnboardingError(f"no tenant {tenant_id}")
    return tenant


def _audit(tenant_id: str, actor: str, action: str, before: dict | None, after: dict | None) -> None:
    db.session.add(
        AuditEvent(
            tenant_id=tenant_id, actor=actor, action=action, target=f"tenant:{tenant_id}", before=before, after=after
        )
    )
