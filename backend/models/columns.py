"""Column helpers shared by the models: ids, timestamps and JSON documents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp that reads back aware, in UTC, on every backend.

    PostgreSQL keeps the offset (timestamptz); SQLite keeps neither offset nor zone and hands back naive values, which
    then fail comparisons with `utcnow()`. Values are stored as UTC and read back with UTC attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store the UTC time; a naive value is taken to be UTC already."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Hand back an aware UTC time."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random, unguessable identifier for rows that callers may name in URLs."""
    return uuid.uuid4().hex


def created_at_column() -> Mapped[datetime]:
    """When the row was made."""
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def updated_at_column() -> Mapped[datetime]:
    """When the row last changed."""
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


def json_column(default: Any = dict, nullable: bool = False) -> Mapped[Any]:
    """A JSON document column (JSONB on PostgreSQL)."""
    return mapped_column(JSONDocument, default=default, nullable=nullable)
