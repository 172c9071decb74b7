"""Skills API: list the skills a caller may run, and run one (JSON or Server-Sent Events)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from backend.admin.settings import settings_row
from backend.api.bodies import json_body
from backend.asyncbridge import Silence
from backend.auth import authenticated, current_identity
from backend.errors import ApiError
from backend.invocation import invoke_once, invoke_streaming, prepare
from backend.openapi import describe
from backend.skills import current_skills
from backend.streaming import sse_response_after_first

bp = Blueprint("skills", __name__, url_prefix="/api/skills")
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
    # One clock for the keepalive: the SSE writer notes each write on it, the wait for the model reports its silences.
    silence = Silence(current_app.config["STREAM_KEEPALIVE_SECONDS"])
    return sse_response_after_first(invoke_streaming(invocation, silence), silence)


def wants_event_stream() -> bool:
    """Whether the caller asked for Server-Sent Events rather than JSON."""
    accepted = request.accept_mimetypes
    return accepted.quality("text/event-stream") > accepted.quality("application/json")
