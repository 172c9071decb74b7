"""Execute one job from its row: the Celery task calls `execute_job(job_id, step_callers)`; safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select, true, update

from backend import asyncbridge
from backend.extensions import db
from backend.jobs.drive_items import DriveItemError, resolve_drive_item
from backend.jobs.heartbeat import Heartbeat
from backend.jobs.plans import PLANS
from backend.jobs.runner import JobCancelled, JobContext, StepCaller, StepFailed
from backend.jobs.store import TERMINAL, decompress_input
from backend.models import Job, SkillRun
from backend.models.columns import utcnow

log = logging.getLogger(__name__)

# Made by the dispatch layer: (job, skill, data) -> a StepCaller that routes, meters and calls a model.
StepCallerFactory = Callable[[Job, Any, dict[str, Any]], StepCaller]


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
    (`backend.jobs.execute.claim`) and the sweep (`backend.jobs.recovery`) both call this, and both take a job only
    with `attempts_left()`: the conditional UPDATEs make one of racing deliveries or sweepers the one that acts.
    Steps already stored and their metering stay; the job's usage sums them as for any failed job.
    """
    limit = max_attempts()
    error = {
        "code": ATTEMPTS_EXHAUSTED,
        "message": f"The job was started {limit} times without finishing (its worker stopped); it is not run again.",
    }
    ended = finish_where(job_id, "failed", and_(available, Job.attempts >= limit), error=error)
    if ended:
        log.warning("job failed: its attempts are exhausted", extra={"job_id": job_id, "max_attempts": limit})
    return ended


def execute_job(job_id: str, step_callers: StepCallerFactory) -> str | None:
    """Run the job's plan to its end and store the outcome; returns the final status (None: nothing was done)."""
    job = claim(job_id)
    if not isinstance(job, Job):
        return job
    with Heartbeat(db.engine, job.id, float(current_app.config["JOB_HEARTBEAT_SECONDS"])):
        return _run_plan(job, step_callers)


def _run_plan(job: Job, step_callers: StepCallerFactory) -> str:
    """The plan of the job's skill, with every way it can end mapped to a final status."""
    skill = current_app.extensions["skills"].get(job.skill_id)
    plan = PLANS.get(job.skill_id)
    if skill is None or plan is None:
        return finish(job, "failed", error={"code": "unknown_skill", "message": "This skill cannot run as a job."})
    data = decompress_input(job.input_compressed)
    concurrency = int(current_app.config["JOB_CONCURRENCY"])
    try:
        data = resolve_drive_item(job, data)  # a named OneDrive/SharePoint file becomes `document`
        context = JobContext(job, step_callers(job, skill, data), concurrency, asyncbridge.iterate)
        context.chunk_tokens = int(current_app.config["JOB_CHUNK_TOKENS"])
        context.reduce_tokens = int(current_app.config["JOB_REDUCE_INPUT_TOKENS"])
        output = plan(context, skill, data, token_counter())
    except JobCancelled:
        db.session.rollback()
        return finish(job, "cancelled", error=None)
    except DriveItemError as exc:
        db.session.rollback()
        return finish(job, "failed", error={"code": exc.code, "message": exc.message})
    except StepFailed as exc:
        db.session.rollback()
        error = {"code": exc.code, "message": str(exc), "step": exc.key}
        return finish(job, "failed", error=error)
    except Exception:  # noqa: BLE001 - the job must end in a state the owner can see; the trace goes to the log
        log.exception("job failed unexpectedly", extra={"job_id": job.id})
        db.session.rollback()
        return finish(job, "failed", error={"code": "internal_error", "message": "The job failed unexpectedly."})
    return finish(job, "succeeded", output=output)


def finish(job: Job, status: str, error: dict | None = None, output: Any = None) -> str:
    """Store the final state with the usage of every metered step; a cancelled or failed job keeps its steps."""
    finish_where(job.id, status, true(), error=error, output=output)
    return status


def finish_where(
    job_id: str, status: str, condition: ColumnElement[bool], error: dict | None = None, output: Any = None
) -> bool:
    """`finish` for a job that is not yet finished and matches `condition`; True when this call finished it."""
    values: dict[str, Any] = {"status": status, "error": error, "usage": job_usage(job_id), "updated_at": utcnow()}
    if status == "succeeded":
        values.update(output=output, progress=1.0, stage="done")
    else:
        values["stage"] = status
    # Never overwrite a job another delivery has already finished.
    ended = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.not_in(TERMINAL), condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if ended.rowcount == 1:
        log.info("job finished", extra={"job_id": job_id, "status": status})
    return ended.rowcount == 1


def job_usage(job_id: str) -> dict[str, Any]:
    """Tokens and cost summed over the job's metered calls."""
    query = select(
        func.count(SkillRun.id),
        func.coalesce(func.sum(SkillRun.input_tokens), 0),
        func.coalesce(func.sum(SkillRun.output_tokens), 0),
        func.coalesce(func.sum(SkillRun.cost_usd), 0),
    ).where(SkillRun.job_id == job_id, SkillRun.outcome == "succeeded")
    calls, tokens_in, tokens_out, cost = db.session.execute(query).one()
    return {
        "calls": calls,
        "input_tokens": int(tokens_in),
        "output_tokens": int(tokens_out),
        "cost_usd": float(Decimal(str(cost))),
    }


def token_counter() -> Callable[[str], int]:
    """The tokenizer used to size chunks."""
    from backend.routing.tokens import count_text_tokens

    return count_text_tokens
