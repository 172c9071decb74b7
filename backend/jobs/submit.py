"""Accepting a job: the skill must be long-running and enabled, the input valid; then it is stored and queued."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import current_app

from backend.admin.settings import settings_row
from backend.errors import ApiError
from backend.jobs.drive_items import check_drive_item_at_submit
from backend.jobs.plans import PLANS
from backend.jobs.store import create_job
from backend.models import Job
from backend.skills.inputs import InvalidInput, input_errors

log = logging.getLogger(__name__)
# An idempotency key is an id the client made (a UUID, say), stored beside the job for as long as the job row lives:
# only short, plain ones are taken, so no document text, key or control character is ever stored as one.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # fullmatch: "$" would let a trailing newline in
IDEMPOTENCY_KEY_RULE = "must be 1 to 128 characters, each a letter, a digit, '.', '_', ':' or '-'"


def submit_job(identity: Any, body: dict[str, Any]) -> tuple[Job, bool]:
    """Validate the request, store the job (or find it by idempotency key) and queue it; True when new."""
    skill_id, data = body.get("skill"), body.get("input")
    options, key = body.get("options") or {}, body.get("idempotency_key")
    if not isinstance(skill_id, str) or not isinstance(data, dict):
        raise ApiError(400, "bad_request", "A job needs `skill` (a string) and `input` (an object).")
    if not isinstance(options, dict) or (key is not None and not isinstance(key, str)):
        raise ApiError(400, "bad_request", "`options` must be an object and `idempotency_key` a string.")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise invalid_idempotency_key()
    skill = current_app.extensions["skills"].get(skill_id)
    if skill is None or skill_id not in PLANS:
        raise ApiError(404, "unknown_skill", "No long-running skill has this id.")
    if skill_id in (settings_row(identity.tenant_id).disabled_skills or []):
        raise ApiError(403, "skill_disabled", "Your organisation has turned this skill off.")
    # The schema only: the skill's size limit is for direct calls; a job's limit is JOB_MAX_INPUT_BYTES.
    fields = input_errors(skill.spec.input_schema, data)
    if fields:
        raise InvalidInput(skill_id, fields)
    check_drive_item_at_submit(identity, data)  # only the reference is stored; the worker fetches the content
    job, created = create_job(identity.tenant_id, identity.user_id, skill_id, data, options, key)
    if created:
        enqueue(job.id)
    return job, created


def invalid_idempotency_key() -> ApiError:
    """422 naming the rule an idempotency key broke, never the key (it may be anything the client was handed)."""
    message = f"`idempotency_key` {IDEMPOTENCY_KEY_RULE}."
    fields = [{"field": "idempotency_key", "message": IDEMPOTENCY_KEY_RULE}]
    return ApiError(422, "invalid_idempotency_key", message, details={"fields": fields})


def enqueue(job_id: str, countdown: float | None = None) -> bool:
    """Send the job to the workers; False when the broker failed (a new job stays queued for `switchboard jobs
    requeue`)."""
    from backend.tasks.broker import retry_quick_failures_only
    from backend.tasks.jobs import run_job

    queue = current_app.config.get("JOB_QUEUE") or None
    try:
        # A broker that does not answer fails this within one connect timeout: the submit is waiting on it.
        run_job.apply_async((job_id,), queue=queue, countdown=countdown, retry_policy=retry_quick_failures_only())
    except Exception:  # noqa: BLE001 - the job is stored; losing the broker must not lose it
        log.exception("could not queue job; it stays queued", extra={"job_id": job_id})
        return False
    return True
