"""Jobs as their owners see them: create (idempotent), read, list, cancel. Only the owner ever sees a job."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.errors import ApiError
from backend.extensions import db
from backend.jobs.request_fingerprint import is_same_request, request_fingerprint
from backend.models import Job
from backend.models.columns import utcnow

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


def compress_input(value: Any) -> bytes:
    """The job input as compressed JSON (documents compress 3-5x)."""
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode("utf-8"), 6)


def decompress_input(blob: bytes) -> Any:
    """The job input stored by `compress_input`."""
    return json.loads(zlib.decompress(blob).decode("utf-8"))


def create_job(
    tenant_id: str, user_id: str, skill_id: str, job_input: Any, options: dict, idempotency_key: str | None
) -> tuple[Job, bool]:
    """Queue a job, or return the caller's job with the same idempotency key; True when it is new.

    A key already used for a different request (skill, input or options) is refused with 409: its job would not
    process this request's document, and the caller must know.
    """
    fingerprint = None
    if idempotency_key:
        existing = _by_idempotency_key(tenant_id, user_id, idempotency_key)
        if existing is not None:
            return _repeated_request(existing, skill_id, job_input, options), False
        fingerprint = request_fingerprint(skill_id, job_input, options)
    days = int(current_app.config.get("JOB_RETENTION_DAYS", 30))
    job = Job(
        tenant_id=tenant_id,
        user_id=user_id,
        skill_id=skill_id,
        options=options,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        input_compressed=compress_input(job_input),
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:
        # Two requests with the same key raced; the other one won, and its job is the answer if it is this request.
        db.session.rollback()
        existing = _by_idempotency_key(tenant_id, user_id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _repeated_request(existing, skill_id, job_input, options), False
    return job, True


def _repeated_request(existing: Job, skill_id: str, job_input: Any, options: dict) -> Job:
    """The job already made with this idempotency key, if this request is the one it was made for; else 409."""
    if not is_same_request(existing.request_fingerprint, skill_id, job_input, options):
        # No document text here or in the logs: the message names the key's misuse, not the request.
        raise ApiError(409, "idempotency_key_reused", "This idempotency key was already used for a different request.")
    return existing


def _by_idempotency_key(tenant_id: str, user_id: str, key: str | None) -> Job | None:
    """The caller's job with this idempotency key, if any."""
    query = select(Job).where(Job.tenant_id == tenant_id, Job.user_id == user_id, Job.idempotency_key == key)
    return db.session.scalars(query).first()


def owned_job(job_id: str, tenant_id: str, user_id: str) -> Job:
    """The caller's job, or 404 for every job that is not theirs (other tenants included)."""
    job = db.session.get(Job, job_id)
    if job is None or job.tenant_id != tenant_id or job.user_id != user_id:
        raise ApiError(404, "not_found", "No such job.")
    return job


def list_jobs(tenant_id: str, user_id: str, limit: int, before: str | None) -> tuple[list[Job], str | None]:
    """The caller's jobs, newest first, and the cursor for the next page (None on the last page)."""
    query = select(Job).where(Job.tenant_id == tenant_id, Job.user_id == user_id)
    if before:
        anchor = db.session.get(Job, before)
        if anchor is not None and anchor.tenant_id == tenant_id and anchor.user_id == user_id:
            query = query.where(
                (Job.created_at < anchor.created_at) | ((Job.created_at == anchor.created_at) & (Job.id < anchor.id))
            )
    jobs = list(db.session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)))
    cursor = jobs[limit - 1].id if len(jobs) > limit else None
    return jobs[:limit], cursor


def request_cancel(job: Job) -> None:
    """Set the cancel flag; the running task checks it between steps and aborts in-flight calls.

    Both updates are conditional on the row as it is now, not as this request read it: a worker may have claimed
    or finished the job in between, and a running job must stay running (it stops itself) and a finished one keep
    its outcome.
    """
    if job.status in TERMINAL:
        return
    now = utcnow()
    db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.not_in(TERMINAL))
        .values(cancel_requested=True, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == "queued")
        .values(status="cancelled", stage="cancelled before it started", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(job)  # the caller answers with the row as it now is


def job_document(job: Job) -> dict[str, Any]:
    """A job as the API shows it to its owner."""
    doc: dict[str, Any] = {
        "id": job.id,
        "skill": job.skill_id,
        "status": job.status,
        "progress": round(job.progress, 4),
        "stage": job.stage,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
    }
    for key in ("output", "error", "usage"):
        if getattr(job, key) is not None:
            doc[key] = getattr(job, key)
    return doc
