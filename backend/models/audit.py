"""The audit log: who changed what, when, before and after. Secret values are never stored here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.models.columns import created_at_column, json_column, new_id


class AuditEvent(Base):
    """One audited change, made by a user through the API or by an operator through the CLI."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    # "user:<object id>" for API callers, "operator:cli" for the command line.
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    before: Mapped[dict[str, Any] | None] = json_column(default=None, nullable=True)
    after: Mapped[dict[str, Any] | None] = json_column(default=None, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
