"""Skills API: list the skills a caller may run, and run one (JSON or Server-Sent Events)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context

from backend import metrics
from backend.admin.settings import settings_row
from backend.api.bodies import json_body
from backend.auth import authenticated, current_identity
from backend.errors import ApiError
from backend.invocation import invoke_once, invoke_streaming, prepare
from backend.openapi import describe
from backend.skills import current_skills
from backend.streaming import KEEPALIVE_COMMENT, SSE_HEADERS, format_event

bp = Blueprint("skills", __name__, url_prefix="/api/skills")
log = logging.getLogger(__name__)
INVOKE_SCHEMA = {
    "type": "object",
    "required": ["input"],
    "properties": {"input": {"type": "object"}, "options": {"type": "object"}},
}
MODEL_SCHEMA = {
    "type": "object",
    "properties": {"provider": {"type": "string"}, "model": {"type": "string"}, "location": {"type": "string"}},
}
INVOKE_RESPONSE = {
    "type": "object",
    "required": ["run_id", "output", "model", "usage", "truncated"],
    "properties": {
        "run_id": {"type": "string"},
        "output": {},
        "model": MODEL_SCHEMA,
        "usage": {"type": "object"},
        "truncated": {"type": "boolean", "description": "The answer reached the skill's output limit and was cut off."},
    },
}
INVOKE_ERRORS = {
    403: "Skill disabled for the tenant",
    404: "No such skill",
    409: "Long-running skill: use a job",
    413: "Input too large: use a job",
    422: "Input fails the skill's schema",
    429: "Rate limited or budget exhausted",
    502: "Every allowed model failed, or the answer was invalid or cut off (output_truncated)",
    503: "No allowed model available",
    504: "Every allowed model timed out",
}


@bp.get("")
@authenticated
@describe(
    "Skills enabled for the caller's tenant, optionally for one host.",
    query={"host": {"enum": ["word", "excel"]}},
    response={"type": "object"},
    tags=["skills"],
)
def list_skills() -> Response:
    """List the skills the caller may run."""
    host = request.args.get("host")
    if host not in (None, "word", "excel"):
        raise ApiError(400, "bad_request", "host must be word or excel.")
    disabled = set(settings_row(current_identity().tenant_id).disabled_skills or [])
    skills = [s.spec.public() for s in current_skills().for_host(host) if s.spec.id not in disabled]
    return jsonify({"skills": skills})


@bp.post("/<skill_id>/invoke")
@authenticated
@describe(
    "Run a skill on the caller's input. Accept: text/event-stream streams meta, delta..., done|error.",
    request=INVOKE_SCHEMA,
    response=INVOKE_RESPONSE,
    responses=INVOKE_ERRORS,
    tags=["skills"],
)
def invoke(skill_id: str) -> Response:
    """Run a skill."""
    body = json_body()
    if not isinstance(body.get("options") or {}, dict):
        raise ApiError(400, "bad_request", "`options` must be an object.")
    identity = current_identity()
    invocation = prepare(skill_id, identity.tenant_id, identity.user_id, body.get("input"))
    if not wants_event_stream():
        return jsonify(invoke_once(invocation))
    events = invoke_streaming(invocation)
    # Pull the first event before answering, so refusals (rate limit, budget, no model) keep their HTTP status. A
    # model silent for the keepalive period makes it a "quiet" event: the head and a keepalive comment go out, and a
    # failure after that is an `error` event.
    first = next(events)
    return Response(
        stream_with_context(event_stream(first, events)),
        mimetype="text/event-stream",
        headers=SSE_HEADERS,
        direct_passthrough=True,
    )


def wants_event_stream() -> bool:
    """Whether the caller asked for Server-Sent Events rather than JSON."""
    accepted = request.accept_mimetypes
    return accepted.quality("text/event-stream") > accepted.quality("application/json")


def event_stream(first: tuple[str, Any], events: Iterator[tuple[str, Any]]) -> Iterator[bytes]:
    """The SSE body: events as they come; a failure after the head ends with one `error` event."""
    metrics.STREAMS_OPEN.inc()
    try:
        for event in itertools.chain([first], events):
            yield KEEPALIVE_COMMENT if event[0] == "quiet" else format_event(*event)
    except ApiError as failure:
        yield format_event("error", {"code": failure.code, "message": failure.message})
    except Exception:  # noqa: BLE001 - the head is sent already: end with an `error` event; the log has the trace
        log.exception("skill stream failed")
        yield format_event("error", {"code": "internal_error", "message": "Something went wrong on our side."})
    finally:
        events.close()  # on client disconnect too: closes the dispatcher's stream, which cancels the provider call
        metrics.STREAMS_OPEN.dec()
