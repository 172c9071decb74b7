"""Tenants, their users, their settings document and their own providers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.models.columns import created_at_column, json_column, new_id, updated_at_column

TENANT_STATUSES = ("pending", "active", "disabled")


class Tenant(Base):
    """An Entra ID tenant (directory) onboarded to Switchboard; its id is the directory's `tid`."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class User(Base):
    """A person in a tenant, identified by (tenant id, Entra object id) and never by e-mail."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "object_id", name="uq_users_tenant_object"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)
    object_id: Mapped[str] = mapped_column(String(64), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # Operators may grant the admin role in the database in addition to the Entra app role.
    admin_granted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = updated_at_column()


class TenantSettings(Base):
    """A tenant's policy document: routing, data policy, budgets, rate limits, disabled skills."""

    __tablename__ = "tenant_settings"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    routing: Mapped[dict[str, Any]] = json_column()
    data_policy: Mapped[dict[str, Any]] = json_column()
    budgets: Mapped[dict[str, Any]] = json_column()
    rate_limits: Mapped[dict[str, Any]] = json_column()
    disabled_skills: Mapped[list[str]] = json_column(default=list)
    # Incremented on every change so concurrent admin edits can be detected (409).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = updated_at_column()


class TenantProvider(Base):
    """A provider a tenant added or configured, with its API key encrypted at rest (see backend.crypto)."""

    __tablename__ = "tenant_providers"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_tenant_providers_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # NULL type: the row narrows a platform provider of the same name (enabled, allowed models) instead of adding one.
    type: Mapped[str | None] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    models: Mapped[list[dict[str, Any]]] = json_column(default=list)
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    # Type-specific and narrowing settings: allowed_models, api_version.
    settings: Mapped[dict[str, Any]] = json_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
