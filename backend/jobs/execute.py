"""Execute one job from its row: the Celery task calls `execute_job(job_id)`; safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from backend import asyncbridge
from backend.extensions import db
from backend.jobs.plans import PLANS
from backend.jobs.runner import JobCancelled, JobContext, StepCaller, StepFailed
from backend.jobs.store import TERMINAL, decompress_input
from backend.models import Job, SkillRun
from backend.models.columns import utcnow

log = logging.getLogger(__name__)

# Made by the dispatch layer: (job, skill, data) -> a StepCaller that routes, meters and calls a model.
StepCallerFactory = Callable[[Job, Any, dict[str, Any]], StepCaller]


def claim(job_id: str) -> Job | None:
    """Mark the job running unless it already ended; None when there is nothing (left) to do."""
    job = db.session.get(Job, job_id)
    if job is None or job.status in TERMINAL:
        return None
    if job.cancel_requested:
        finish(job, "cancelled", error=None)
        return None
    db.session.execute(update(Job).where(Job.id == job_id).values(status="running", updated_at=utcnow()))
    db.session.commit()
    db.session.refresh(job)
    return job


def execute_job(job_id: str, step_callers: StepCallerFactory) -> str | None:
    """Run the job's plan to its end and store the outcome; returns the final status."""
    job = claim(job_id)
    if job is None:
        return None
    skill = current_app.extensions["skills"].get(job.skill_id)
    plan = PLANS.get(job.skill_id)
    if skill is None or plan is None:
        return finish(job, "failed", error={"code": "unknown_skill", "message": "This skill cannot run as a job."})
    data = decompress_input(job.input_compressed)
    concurrency = int(current_app.config.get("JOB_CONCURRENCY", 4))
    context = JobContext(job, step_callers(job, skill, data), concurrency, asyncbridge.run_sync, asyncbridge.iterate)
    count = token_counter()
    try:
        output = plan(context, skill, data, count)
    except JobCancelled:
        return finish(job, "cancelled", error=None)
    except StepFailed as exc:
        error = {"code": exc.code, "message": str(exc), "step": exc.key}
        return finish(job, "failed", error=error)
    except Exception:  # noqa: BLE001 - the job must end in a state the owner can see; the trace goes to the log
        log.exception("job failed unexpectedly", extra={"job_id": job.id})
        db.session.rollback()
        return finish(job, "failed", error={"code": "internal_error", "message": "The job failed unexpectedly."})
    return finish(job, "succeeded", output=output)


def finish(job: Job, status: str, error: dict | None = None, output: Any = None) -> str:
    """Store the final state with the usage of every metered step; a cancelled or failed job keeps its steps."""
    values: dict[str, Any] = {"status": status, "error": error, "usage": job_usage(job.id), "updated_at": utcnow()}
    if status == "succeeded":
        values.update(output=output, progress=1.0, stage="done")
    else:
        values["stage"] = status
    # Never overwrite a job another delivery has already finished.
    db.session.execute(update(Job).where(Job.id == job.id, Job.status.not_in(TERMINAL)).values(**values))
    db.session.commit()
    return status


def job_usage(job_id: str) -> dict[str, Any]:
    """Tokens and cost summed over the job's metered calls."""
    query = select(
        func.count(SkillRun.id),
        func.coalesce(func.sum(SkillRun.input_tokens), 0),
        func.coalesce(func.sum(SkillRun.output_tokens), 0),
        func.coalesce(func.sum(SkillRun.cost_usd), 0),
    ).where(SkillRun.job_id == job_id)
    calls, tokens_in, tokens_out, cost = db.session.execute(query).one()
    return {
        "calls": calls,
        "input_tokens": int(tokens_in),
        "output_tokens": int(tokens_out),
        "cost_usd": float(Decimal(cost)),
    }


def token_counter() -> Callable[[str], int]:
    """The tokenizer used to size chunks."""
    from backend.routing.tokens import count_text_tokens

    return count_text_tokens
