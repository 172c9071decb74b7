"""MSAL token caches for on-behalf-of calls, one per (tenant, user), encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.models.columns import updated_at_column


class UserTokenCache(Base):
    """The serialized MSAL cache of one user, encrypted with backend.crypto; never shared between users."""

    __tablename__ = "user_token_caches"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cache_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = updated_at_column()
