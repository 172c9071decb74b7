"""Storing how a job ended: its final status, its error or output, and the usage of its metered calls."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, true, update

from backend.extensions import db
from backend.jobs.store import TERMINAL
from backend.models import Job, SkillRun
from backend.models.columns import utcnow

log = logging.getLogger(__name__)


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
    """Tokens and cost summed over the job's metered calls, and the models that made them (most calls first): the
    job's answer says which models gave it and where they ran, as every direct answer does."""
    answered = (SkillRun.job_id == job_id, SkillRun.outcome == "succeeded")
    query = select(
        func.count(SkillRun.id),
        func.coalesce(func.sum(SkillRun.input_tokens), 0),
        func.coalesce(func.sum(SkillRun.output_tokens), 0),
        func.coalesce(func.sum(SkillRun.cost_usd), 0),
    ).where(*answered)
    calls, tokens_in, tokens_out, cost = db.session.execute(query).one()
    by_model = (
        select(SkillRun.provider, SkillRun.model, SkillRun.location, func.count(SkillRun.id).label("calls"))
        .where(*answered)
        .group_by(SkillRun.provider, SkillRun.model, SkillRun.location)
        .order_by(func.count(SkillRun.id).desc(), SkillRun.provider, SkillRun.model)
    )
    models = [
        {"provider": provider, "model": model, "location": location, "calls": count}
        for provider, model, location, count in db.session.execute(by_model)
    ]
    return {
        "calls": calls,
        "input_tokens": int(tokens_in),
        "output_tokens": int(tokens_out),
        "cost_usd": float(Decimal(str(cost))),
        "models": models,
    }
