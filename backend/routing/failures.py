"""The fallback loop's failures as the caller sees them: kinds and statuses only, never a key or any text."""

from __future__ import annotations

from typing import Any

from backend.errors import ApiError
from backend.providers.base import ModelSpec, ProviderError
from backend.routing.router import RoutingDecision

# Non-retryable provider failures, as the caller sees them: a provider's 401/403 is the tenant admin's to fix.
STOP_CODES = {"auth": "provider_auth_failed", "client": "provider_rejected_request", "protocol": "provider_bad_answer"}


class StreamInterrupted(ApiError):
    """A stream failed after text reached the caller: never retried, never silently truncated."""

    def __init__(self, run_id: str) -> None:
        super().__init__(502, "stream_interrupted", "The model stopped answering midway.", details={"run_id": run_id})


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
    return ApiError(502, code, "The model provider refused the call.", details={"attempts": decision.attempts})
