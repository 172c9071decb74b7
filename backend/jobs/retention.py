"""Retention: a finished job's input, output and steps are deleted once it expires (JOB_RETENTION_DAYS)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update

from backend.extensions import db
from backend.jobs.store import TERMINAL
from backend.models import Job, JobStep
from backend.models.columns import utcnow
from backend.tenancy import unscoped

BATCH = 500  # jobs per transaction: a long purge never holds one huge lock


def purge_expired_jobs(now: datetime | None = None) -> int:
    """Delete the content (input, output, steps) of finished jobs past expires_at; returns how many were purged.

    The job row stays (status, error code, usage) so the owner's list and the usage report still add up; its
    metering (SkillRun rows) is kept in full: it never held document text.
    """
    now = now or utcnow()
    purged = 0
    not_yet_purged = or_(Job.stage.is_(None), Job.stage != "expired")
    expired = and_(Job.expires_at < now, Job.status.in_(TERMINAL), not_yet_purged)
    with unscoped():
        while True:
            ids = list(db.session.scalars(select(Job.id).where(expired).limit(BATCH)))
            if not ids:
                return purged
            db.session.execute(
                delete(JobStep).where(JobStep.job_id.in_(ids)).execution_options(synchronize_session=False)
            )
            db.session.execute(
                update(Job)
                .where(Job.id.in_(ids))
                .values(input_compressed=None, output=None, stage="expired", updated_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            purged += len(ids)
