"""Claiming a job for one delivery (a conditional UPDATE is the lease) and bounding how often it is taken over."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, update

from backend.extensions import db
from backend.jobs.outcome import finish, finish_where
from backend.jobs.store import TERMINAL
from backend.models import Job
from backend.models.columns import utcnow

log = logging.getLogger(__name__)

BUSY = "busy"  # execute_job's answer when another worker holds the job: look again later
ATTEMPTS_EXHAUSTED = "job_attempts_exhausted"  # the error code of a job started JOB_MAX_ATTEMPTS times in vain


def claim(job_id: str) -> Job | str | None:
    """Mark the job running for this delivery. None when it had ended, BUSY while another live worker runs it, and
    "failed" when this delivery ended it because its attempts are used up (see `fail_if_attempts_exhausted`)."""
    job = db.session.get(Job, job_id)
    if job is None or job.status in TERMINAL:
        return None
    if job.cancel_requested:
        finish(job, "cancelled", error=None)
        return None
    now = utcnow()
    stale = now - timedelta(seconds=float(current_app.config["JOB_STALE_SECONDS"]))
    # A conditional UPDATE is the lease: of two deliveries racing (a redelivery while the first still runs),
    # only one wins, and a job whose worker died (stale heartbeat) can be taken over.
    abandoned = or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale)
    free = or_(Job.status == "queued", and_(Job.status == "running", abandoned))
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, free, attempts_left())
        .values(status="running", heartbeat_at=now, attempts=Job.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        if fail_if_attempts_exhausted(job_id, free):
            return "failed"
        log.info("job runs elsewhere; this delivery will look again later", extra={"job_id": job_id})
        return BUSY
    db.session.refresh(job)
    log.info("job started", extra={"job_id": job_id, "attempt": job.attempts})
    return job


def max_attempts() -> int:
    """How many deliveries may start a job (JOB_MAX_ATTEMPTS, at least 1)."""
    return max(1, int(current_app.config["JOB_MAX_ATTEMPTS"]))


def attempts_left() -> ColumnElement[bool]:
    """SQL condition: the job may be started once more. `attempts` counts the deliveries that claimed it."""
    return Job.attempts < max_attempts()


def fail_if_attempts_exhausted(job_id: str, available: ColumnElement[bool]) -> bool:
    """End the job as failed (`job_attempts_exhausted`) if no live worker holds it (`available`) and its attempts
    are used up; True when this call ended it.

    A job that kills its worker every time (out of memory, a native crash), or whose delivery raises after the
    claim, would otherwise be taken over by the sweep or redelivered by the broker forever. The claim
    (`claim`) and the sweep (`backend.jobs.recovery`) both call this, and both take a job only
    with `attempts_left()`: the conditional UPDATEs make one of racing deliveries or sweepers the one that acts.
    Steps already stored and their metering stay; the job's usage sums them as for any failed job. A job whose owner
    asked to cancel it ends cancelled instead: that is what was asked, and the attempts no longer matter.
    """
    limit = max_attempts()
    exhausted = and_(available, Job.attempts >= limit)
    if finish_where(job_id, "cancelled", and_(exhausted, Job.cancel_requested.is_(True))):
        return True
    error = {
        "code": ATTEMPTS_EXHAUSTED,
        "message": f"The job was started {limit} times without finishing (its worker stopped); it is not run again.",
    }
    ended = finish_where(job_id, "failed", exhausted, error=error)
    if ended:
        log.warning("job failed: its attempts are exhausted", extra={"job_id": job_id, "max_attempts": limit})
    return ended
