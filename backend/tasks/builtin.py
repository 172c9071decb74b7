"""Tasks every deployment has."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy import text

from backend.extensions import db


@shared_task(name="switchboard.ping")
def ping() -> str:
    """Round-trip check: proves a worker is consuming and can reach the database."""
    db.session.execute(text("SELECT 1"))
    return "pong"
