"""Finding jobs no worker is running (stale heartbeat, or queued but never delivered) and queueing them again.

The embedded sqla broker never redelivers a message whose worker died (it hides a message when it is delivered and
acks in memory), and any broker can lose a message that was never acknowledged by its sender. Each worker therefore
sweeps every JOB_SWEEP_SECONDS, and operators can run `switchboard jobs requeue`. Redelivery is always safe: steps
are stored, and the claim in backend.jobs.claim lets only one delivery run a job. Takeovers are bounded: a job
started JOB_MAX_ATTEMPTS times is failed (backend.jobs.claim.fail_if_attempts_exhausted), by the sweep or the claim.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import and_, or_, select, update

from backend.extensions import db
from backend.models import Job
from backend.models.columns import utcnow
from backend.tenancy import unscoped

log = logging.getLogger(__name__)


def requeue_stale_jobs(stale_seconds: float, queued_seconds: float | None = None) -> list[str]:
    """Queue again running jobs with a heartbeat older than stale_seconds (and queued ones older than
    queued_seconds, if given); returns their ids. A job whose JOB_MAX_ATTEMPTS are used up is failed instead, as
    its next claim would do. Needs an app context."""
    from backend.jobs.claim import attempts_left, fail_if_attempts_exhausted
    from backend.jobs.submit import enqueue

    now = utcnow()
    stale = now - timedelta(seconds=stale_seconds)
    dead = and_(Job.status == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale))
    waiting = and_(Job.status == "queued", Job.updated_at < now - timedelta(seconds=queued_seconds or 0))
    condition = or_(dead, waiting) if queued_seconds is not None else dead
    requeued = []
    with unscoped():
        for job_id, status in db.session.execute(select(Job.id, Job.status).where(condition)).all():
            if fail_if_attempts_exhausted(job_id, condition):
                continue  # it took its worker down every time: not sent again
            # Conditional on the row still matching: of several sweepers, one requeues each job.
            taken = db.session.execute(
                update(Job)
                .where(Job.id == job_id, condition, attempts_left())
                .values(status="queued", stage="queued again", heartbeat_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            if taken.rowcount != 1:
                continue
            if not enqueue(job_id):
                # The broker is down: a dead job goes back to `running` with no heartbeat, so the next sweep (which
                # looks at running jobs only) tries again, unless a worker took it meanwhile.
                db.session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued", Job.heartbeat_at.is_(None))
                    .values(status=status)
                    .execution_options(synchronize_session=False)
                )
                db.session.commit()
                continue
            requeued.append(job_id)
            log.warning("job requeued: its worker stopped", extra={"job_id": job_id})
    return requeued


def start_sweeper(app: Flask) -> threading.Thread | None:
    """In a worker's main process: a daemon thread requeueing stale jobs every JOB_SWEEP_SECONDS (0: off)."""
    every = float(app.config["JOB_SWEEP_SECONDS"])
    if every <= 0:
        return None
    stale = float(app.config["JOB_STALE_SECONDS"])

    def sweep_forever() -> None:
        """Sweep, sleep, repeat, for the life of the worker."""
        while True:
            try:
                with app.app_context():
                    requeue_stale_jobs(stale)
            except Exception:  # noqa: BLE001 - a sweep failing (database restarting) must not end the thread
                log.warning("stale job sweep failed", exc_info=True)
            threading.Event().wait(every)

    thread = threading.Thread(target=sweep_forever, name="job-sweeper", daemon=True)
    thread.start()
    return thread
