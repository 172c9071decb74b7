"""Jobs API: long-running skills on Celery. A job is visible to its owner only (404 for everyone else)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from backend.api.bodies import json_body
from backend.auth import authenticated, current_identity
from backend.errors import ApiError
from backend.extensions import db
from backend.jobs import store
from backend.jobs.submit import IDEMPOTENCY_KEY
from backend.openapi import describe

bp = Blueprint("jobs", __name__, url_prefix="/api/jobs")

JOB_SCHEMA = {
    "type": "object",
    "required": ["id", "skill", "status", "progress", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "string"},
        "skill": {"type": "string"},
        "status": {"enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "stage": {"type": ["string", "null"]},
        "output": {},
        "error": {"type": "object"},
        "usage": {
            "type": "object",
            "description": "The calls metered so far while the job runs; final once it has ended.",
            "properties": {
                "calls": {"type": "integer"},
                "input_tokens": {"type": "integer"},
                "output_tokens": {"type": "integer"},
                "cost_usd": {"type": "number"},
                "models": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "provider": {"type": ["string", "null"]},
                            "model": {"type": ["string", "null"]},
                            "location": {"type": ["string", "null"]},
                            "calls": {"type": "integer"},
                        },
                    },
                },
            },
        },
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
    },
}
CREATE_SCHEMA = {
    "type": "object",
    "required": ["skill", "input"],
    "properties": {
        "skill": {"type": "string"},
        "input": {"type": "object"},
        "options": {"type": "object"},
        "idempotency_key": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"},
    },
}
JOB_ERRORS = {404: "No such job (or not yours)"}
# What a `progress` event carries: the usage so far too, once a step has been metered.
PROGRESS_FIELDS = ("id", "status", "progress", "stage", "usage")


@bp.post("")
@authenticated
@describe(
    "Queue a long-running skill; the same idempotency_key with the same request returns the same job.",
    request=CREATE_SCHEMA,
    response=JOB_SCHEMA,
    headers={"Location": "The job's URL, to poll"},
    responses={
        202: "Queued",
        403: "Skill disabled",
        404: "No such skill",
        409: "idempotency_key already used for a different request",
        413: "Input too large",
        422: "Input fails the skill's schema (invalid_input), or idempotency_key its pattern (invalid_idempotency_key)",
    },
    tags=["jobs"],
)
def create_job() -> tuple[Response, int, dict[str, str]]:
    """Queue a job."""
    from backend.jobs.submit import submit_job

    request.max_content_length = int(current_app.config["JOB_MAX_INPUT_BYTES"])
    body = json_body()
    identity = current_identity()
    job, _created = submit_job(identity, body)
    # 202 for a repeat too (same idempotency key): the answer describes the same accepted job either way.
    return jsonify(store.job_document(job)), 202, {"Location": url_for("jobs.get_job", job_id=job.id)}


@bp.get("")
@authenticated
@describe(
    "The caller's jobs, newest first.",
    query={"limit": {"type": "integer"}, "before": {"type": "string"}},
    response={"type": "object"},
    tags=["jobs"],
)
def list_jobs() -> Response:
    """List the caller's jobs."""
    identity = current_identity()
    limit = min(max(request.args.get("limit", 20, type=int) or 20, 1), 100)
    jobs, cursor = store.list_jobs(identity.tenant_id, identity.user_id, limit, request.args.get("before"))
    return jsonify({"jobs": [store.job_document(job) for job in jobs], "next": cursor})


@bp.get("/<job_id>")
@authenticated
@describe(
    "One of the caller's jobs: status, progress, output.", response=JOB_SCHEMA, responses=JOB_ERRORS, tags=["jobs"]
)
def get_job(job_id: str) -> Response:
    """Read a job."""
    identity = current_identity()
    return jsonify(store.job_document(store.owned_job(job_id, identity.tenant_id, identity.user_id)))


@bp.post("/<job_id>/cancel")
@authenticated
@describe(
    "Ask a job to stop; it stops between steps and aborts calls in flight.",
    response=JOB_SCHEMA,
    responses={202: "Cancel requested", **JOB_ERRORS},
    tags=["jobs"],
)
def cancel_job(job_id: str) -> tuple[Response, int]:
    """Cancel a job."""
    identity = current_identity()
    job = store.owned_job(job_id, identity.tenant_id, identity.user_id)
    store.request_cancel(job)
    return jsonify(store.job_document(job)), 202


@bp.get("/<job_id>/events")
@authenticated
@describe(
    "Progress of a job as Server-Sent Events (`progress` events, then one `done`).",
    content_type="text/event-stream",
    response={"type": "string"},
    responses=JOB_ERRORS,
    tags=["jobs"],
)
def job_events(job_id: str) -> Response:
    """Stream a job's progress."""
    from backend.streaming import sse_response

    identity = current_identity()
    store.owned_job(job_id, identity.tenant_id, identity.user_id)
    app = current_app._get_current_object()
    return sse_response(lambda: _progress_events(app, job_id))


async def _progress_events(app, job_id: str) -> AsyncIterator[tuple[str, dict]]:
    """Poll the job row and emit a `progress` event whenever it changes, then `done` with the final document."""
    import asyncio

    last = None
    deadline = time.monotonic() + float(app.config.get("JOB_EVENTS_MAX_SECONDS", 3600))
    while time.monotonic() < deadline:
        document = await asyncio.to_thread(_read_job, app, job_id)
        if document is None:
            raise ApiError(404, "not_found", "No such job.")
        snapshot = (document["status"], document["progress"], document.get("stage"), document.get("usage"))
        if snapshot != last:
            last = snapshot
            if document["status"] in store.TERMINAL:
                yield "done", document
                return
            yield "progress", {k: document[k] for k in PROGRESS_FIELDS if k in document}
        await asyncio.sleep(float(app.config.get("JOB_EVENTS_POLL_SECONDS", 0.5)))


def _read_job(app, job_id: str) -> dict | None:
    """A fresh read of the job row, in a context of its own (the stream outlives the request's)."""
    from backend.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        return store.job_document(job) if job else None
