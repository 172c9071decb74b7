"""Writing and reading the audit log. Values that are secret never reach it: only whether they were set."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditEvent

SECRET_FIELDS = frozenset({"api_key", "client_secret", "password", "token"})


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


def list_events(tenant_id: str, limit: int = 100, before_id: str | None = None) -> list[dict[str, Any]]:
    """The tenant's audit events, newest first."""
    query = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if before_id:
        anchor = db.session.get(AuditEvent, before_id)
        if anchor is not None and anchor.tenant_id == tenant_id:
            # Strictly after the anchor in the listing's own order: events of one PATCH may share a timestamp.
            earlier = AuditEvent.created_at < anchor.created_at
            tied = (AuditEvent.created_at == anchor.created_at) & (AuditEvent.id < anchor.id)
            query = query.where(earlier | tied)
    query = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    return [
        {
            "id": event.id,
            "actor": event.actor,
            "action": event.action,
            "target": event.target,
            "before": event.before,
            "after": event.after,
            "request_id": event.request_id,
            "created_at": event.created_at.isoformat(),
        }
        for event in db.session.scalars(query)
    ]
