"""Long-running work queued on Celery: state, progress, and the (compressed) input and output."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.models.columns import UTCDateTime, created_at_column, json_column, new_id, updated_at_column

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


class Job(Base):
    """A skill run too long for one request; only its owner may see it."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "idempotency_key", name="uq_jobs_idempotency"),
        Index("ix_jobs_owner_created", "tenant_id", "user_id", "created_at"),
        # /metrics counts jobs by state and skill on every scrape (backend/jobs/metrics.py): this index answers it
        # without reading the table (1M jobs on PostgreSQL: 0.16-0.19 s instead of 0.56-0.61 s).
        Index("ix_jobs_status_skill", "status", "skill_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    skill_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    stage: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # What the key was used for: an HMAC of skill, input and options (backend/jobs/request_fingerprint.py). It
    # outlives the purged input so the key keeps its meaning; NULL on jobs made before it existed (matches any).
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = json_column()
    input_compressed: Mapped[bytes | None] = mapped_column(LargeBinary)
    output: Mapped[Any | None] = json_column(default=None, nullable=True)
    error: Mapped[dict[str, Any] | None] = json_column(default=None, nullable=True)
    usage: Mapped[dict[str, Any] | None] = json_column(default=None, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Touched by the worker running the job; a stale heartbeat means that worker died (see `jobs requeue`).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # deliveries that started the job
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class JobStep(Base):
    """One finished step of a job (a map chunk or a reduce group): stored so a redelivered task resumes, not repeats.

    The step's metering (its SkillRun) is written in the same transaction, so a step is never metered twice.
    """

    __tablename__ = "job_steps"
    __table_args__ = (UniqueConstraint("job_id", "key", name="uq_job_steps_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)  # e.g. "map:0007", "reduce:1:0002"
    result: Mapped[Any] = json_column(default=None, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
