"""Column helpers shared by the models: ids, timestamps and JSON documents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random, unguessable identifier for rows that callers may name in URLs."""
    return uuid.uuid4().hex


def created_at_column() -> Mapped[datetime]:
    """When the row was made."""
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def updated_at_column() -> Mapped[datetime]:
    """When the row last changed."""
    return mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False)


def json_column(default: Any = dict, nullable: bool = False) -> Mapped[Any]:
    """A JSON document column (JSONB on PostgreSQL)."""
    return mapped_column(JSONDocument, default=default, nullable=nullable)
