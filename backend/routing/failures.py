"""The fallback loop's failures as the caller sees them: kinds and statuses only, never a key or any text."""

from __future__ import annotations

from typing import Any

from backend.errors import ApiError
from backend.providers.base import ModelSpec, ProviderError
from backend.routing.router import RoutingDecision

# Non-retryable provider failures, as the caller sees them: a provider's 401/403 is the tenant admin's to fix.
STOP_CODES = {
    "auth": "provider_auth_failed",
    "client": "provider_rejected_request",
    "protocol": "provider_bad_answer",
    "content_filter": "content_filtered",
}
# A provider's safety system refused the prompt or stopped the answer (Azure's 400 `content_filter`, a
# `finish_reason: content_filter`, Anthropic's `stop_reason: refusal`). Not retried: sending the document on to
# another provider to get past one's filter is not what a tenant who chose that provider asked for.
CONTENT_FILTERED_MESSAGE = (
    "The model provider's content filter blocked this request. It was not sent to another model; "
    "rephrase the text or ask your administrator."
)
CONTENT_FILTERED_MIDWAY_MESSAGE = "The model provider's content filter stopped the answer midway; it is incomplete."
# An answer the provider sent but Switchboard cannot read (malformed, or stopped for a reason no API documents): no
# refusal, and not retried (docs/api-additions.md, `provider_bad_answer`).
BAD_ANSWER_MESSAGE = "The model provider's answer could not be used."


class StreamInterrupted(ApiError):
    """A stream failed after text reached the caller: never retried, never silently truncated."""

    def __init__(self, run_id: str, message: str = "The model stopped answering midway.", **details: str) -> None:
        super().__init__(502, "stream_interrupted", message, details={"run_id": run_id, **details})


def interrupted(run_id: str, error: ProviderError) -> ApiError:
    """The error that ends a stream which failed after text reached the caller: always `stream_interrupted` (API.md),
    with `details.reason` "content_filter" when the provider's filter stopped the answer."""
    if error.kind == "content_filter":
        return StreamInterrupted(run_id, CONTENT_FILTERED_MIDWAY_MESSAGE, reason="content_filter")
    return StreamInterrupted(run_id)


def attempt_error(model: ModelSpec, error: ProviderError) -> dict[str, Any]:
    """One failed attempt for the routing record and error details (kind and status only: no text, no key)."""
    return {"model": model.ref, "error": error.kind, "status": error.status}


def all_failed(decision: RoutingDecision) -> ApiError:
    """502/503/504 all_models_failed: 504 if every attempt timed out, 503 if every one was throttled or none ran."""
    kinds = {a["error"] for a in decision.attempts}
    status = 503 if not kinds or kinds <= {"rate_limited", "overloaded", "circuit_half_open_busy"} else 502
    if kinds and kinds <= {"timeout", "first_token_timeout"}:
        status = 504
    details = {"attempts": decision.attempts, "skipped": decision.skipped}
    return ApiError(status, "all_models_failed", "No allowed model could answer.", details=details)


def stop_error(decision: RoutingDecision, error: ProviderError) -> ApiError:
    """The clean error for a failure that must not be retried (no key, no text: kinds and statuses only)."""
    code = STOP_CODES.get(error.kind, "provider_error")
    if error.kind == "content_filter":
        return ApiError(422, code, CONTENT_FILTERED_MESSAGE, details={"attempts": decision.attempts})
    message = BAD_ANSWER_MESSAGE if error.kind == "protocol" else "The model provider refused the call."
    return ApiError(502, code, message, details={"attempts": decision.attempts})
