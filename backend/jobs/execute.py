"""Execute one job from its row: the Celery task calls `execute_job(job_id, step_callers)`; safe to run twice
(backend.jobs.claim lets one delivery run it; backend.jobs.outcome stores how it ended)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app

from backend import asyncbridge
from backend.extensions import db
from backend.jobs.claim import claim
from backend.jobs.drive_items import DriveItemError, resolve_drive_item
from backend.jobs.heartbeat import Heartbeat
from backend.jobs.outcome import finish
from backend.jobs.plans import PLANS
from backend.jobs.runner import JobCancelled, JobContext, StepCaller, StepFailed
from backend.jobs.store import decompress_input
from backend.models import Job

log = logging.getLogger(__name__)

# Made by the dispatch layer: (job, skill, data) -> a StepCaller that routes, meters and calls a model.
StepCallerFactory = Callable[[Job, Any, dict[str, Any]], StepCaller]


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
        if exc.details:
            error["details"] = exc.details
        return finish(job, "failed", error=error)
    except Exception:  # noqa: BLE001 - the job must end in a state the owner can see; the trace goes to the log
        log.exception("job failed unexpectedly", extra={"job_id": job.id})
        db.session.rollback()
        return finish(job, "failed", error={"code": "internal_error", "message": "The job failed unexpectedly."})
    return finish(job, "succeeded", output=output)


def token_counter() -> Callable[[str], int]:
    """The tokenizer used to size chunks."""
    from backend.routing.tokens import count_text_tokens

    return count_text_tokens
