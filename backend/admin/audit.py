"""Writing and reading the audit log. Values that are secret never reach it: only whether they were set."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditEvent, User

SECRET_FIELDS = frozenset({"api_key", "client_secret", "password", "token"})
USER_ACTOR = "user:"  # the actor of a change made through the API: "user:<Entra object id>"


def redact(value: Any) -> Any:
    """A copy of a document with every secret field replaced by whether it is set."""
    if isinstance(value, dict):
        clean = {}
        for key, item in value.items():
            if key in SECRET_FIELDS:
                clean[f"{key}_set"] = bool(item)
            else:
                clean[key] = redact(item)
        return clean
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def record(tenant_id: str, actor: str, action: str, target: str = "", before: Any = None, after: Any = None) -> None:
    """Add one audit event to the current session (committed with the change it describes)."""
    request_id = g.get("request_id") if has_request_context() else None
    db.session.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            target=target,
            before=redact(before),
            after=redact(after),
            request_id=request_id,
        )
    )


def list_events(
    tenant_id: str, limit: int = 100, before_id: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The tenant's audit events, newest first, and the cursor of the next page (None on the last page)."""
    query = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if before_id:
        anchor = db.session.get(AuditEvent, before_id)
        if anchor is not None and anchor.tenant_id == tenant_id:
            # Strictly after the anchor in the listing's own order: events of one PATCH may share a timestamp.
            earlier = AuditEvent.created_at < anchor.created_at
            tied = (AuditEvent.created_at == anchor.created_at) & (AuditEvent.id < anchor.id)
            query = query.where(earlier | tied)
    query = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    events = list(db.session.scalars(query))
    cursor = events[limit - 1].id if len(events) > limit else None
    names = actor_names(tenant_id, {event.actor for event in events[:limit]})
    return [
        {
            "id": event.id,
            "actor": event.actor,
            "actor_name": names.get(event.actor),
            "action": event.action,
            "target": event.target,
            "before": event.before,
            "after": event.after,
            "request_id": event.request_id,
            "created_at": event.created_at.isoformat(),
        }
        for event in events[:limit]
    ], cursor


def actor_names(tenant_id: str, actors: set[str]) -> dict[str, str]:
    """The display names of the tenant's users among `actors` ("user:<object id>"), by actor."""
    object_ids = {actor.removeprefix(USER_ACTOR) for actor in actors if actor.startswith(USER_ACTOR)}
    if not object_ids:
        return {}
    query = select(User.object_id, User.display_name).where(
        User.tenant_id == tenant_id, User.object_id.in_(object_ids), User.display_name != ""
    )
    return {f"{USER_ACTOR}{object_id}": name for object_id, name in db.session.execute(query)}
