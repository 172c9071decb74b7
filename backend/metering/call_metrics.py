"""Prometheus metrics of model calls, counted once per call where its accounting finishes (call_accounting.py).

Every label has a bounded set of values, whatever tenants configure:
- `kind`: the provider's type (openai, azure_openai, anthropic, selfhosted).
- `model`: a platform model's ref ("<provider>/<model id>", both written by the operator in the providers file) when
  the call went to it on the platform's own key and URL; `tenant` for any model a tenant configured (a provider of its
  own, its own key or endpoint, a model id it added), so a tenant's names never become a series. The model is the one
  that answered or, for a call that failed, the last one tried; `none` when no model was tried.
- `outcome`: `ok`, `fallback` (answered after another model failed or was skipped as busy), `cancelled`, or the error
  code the caller got (`all_models_failed`, `stream_interrupted`, `provider_*`, `internal_error`; `other_error`).
- `error` (failed attempts): the provider error kind (connect, timeout, rate_limited...; `other`).
Calls refused before any model is chosen (rate limit, budget, no model allowed) are no model calls: the HTTP metrics
count them by status. Job steps call models in the worker, which serves no /metrics: their calls are in the SkillRun
rows (usage), and jobs in the `switchboard_jobs` gauge (backend/jobs/metrics.py).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from flask import Flask, has_app_context
from prometheus_client import Counter, Histogram

from backend.catalog import platform_catalog
from backend.catalog.parsing import PROVIDER_TYPES
from backend.providers.base import ModelSpec, ProviderError
from backend.routing.failures import STOP_CODES

if TYPE_CHECKING:
    from backend.metering.call_accounting import CallAccounting

log = logging.getLogger(__name__)

CALL_ERRORS = frozenset(STOP_CODES.values()) | {
    "all_models_failed",
    "provider_error",
    "stream_interrupted",
    "internal_error",
    "cancelled",
}
ATTEMPT_ERRORS = ProviderError.RETRYABLE_KINDS | {
    "auth",
    "client",
    "protocol",
    "content_filter",
    "circuit_half_open_busy",
}
SECONDS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300)

MODEL_CALLS = Counter(
    "switchboard_model_calls", "Model calls by provider kind, model and outcome", ["kind", "model", "outcome"]
)
MODEL_ATTEMPT_FAILURES = Counter(
    "switchboard_model_attempt_failures", "Failed attempts of model calls, by error kind", ["kind", "model", "error"]
)
MODEL_CALL_SECONDS = Histogram(
    "switchboard_model_call_seconds",
    "Time from routing to the whole answer, of answered calls",
    ["kind", "model"],
    buckets=SECONDS_BUCKETS,
)
MODEL_FIRST_TOKEN_SECONDS = Histogram(
    "switchboard_model_first_token_seconds",
    "Time from routing to the first text, of streamed calls",
    ["kind", "model"],
    buckets=SECONDS_BUCKETS,
)


def count_call(call: CallAccounting, model: ModelSpec | None, outcome: str, error_code: str | None, now: float) -> None:
    """Count one finished call, its failed attempts and its timings; a failure here is logged, never raised."""
    try:
        labels = CallLabels(call.app, call.catalog)
        attempts = call.decision.attempts
        if model is None and attempts:
            model = labels.model_of(attempts[-1]["model"])
        kind, ref = labels.of(model)
        if outcome == "succeeded":
            result = "fallback" if attempts else "ok"
        else:
            result = error_code if error_code in CALL_ERRORS else "other_error"
        MODEL_CALLS.labels(kind, ref, result).inc()
        for attempt in attempts:
            error = attempt["error"] if attempt["error"] in ATTEMPT_ERRORS else "other"
            MODEL_ATTEMPT_FAILURES.labels(*labels.of(labels.model_of(attempt["model"])), error).inc()
        if call.streamed and call.first_token is not None:
            MODEL_FIRST_TOKEN_SECONDS.labels(kind, ref).observe(call.first_token - call.started)
        if outcome == "succeeded":
            MODEL_CALL_SECONDS.labels(kind, ref).observe(now - call.started)
    except Exception:  # noqa: BLE001 - metrics must never fail a call whose accounting is done
        log.warning("model call metrics could not be counted", exc_info=True)


class CallLabels:
    """The bounded labels of the models of one tenant's catalog."""

    def __init__(self, app: Flask, catalog: Any) -> None:
        self.app, self.catalog = app, catalog
        self._platform_refs: Collection[str] | None = None

    def model_of(self, ref: str) -> ModelSpec | None:
        """The catalog's model of a ref, if it still has it."""
        return self.catalog.models.get(ref) if self.catalog is not None else None

    def of(self, model: ModelSpec | None) -> tuple[str, str]:
        """(kind, model) labels of a model."""
        provider = self.catalog.providers.get(model.provider) if model and self.catalog is not None else None
        if provider is None:
            return "none", "none"
        kind = provider.type if provider.type in PROVIDER_TYPES else "other"
        platform_paid = provider.owner is None  # the platform's key at the platform's URL (backend/catalog/tenant.py)
        return kind, model.ref if platform_paid and model.ref in self.platform_refs() else "tenant"

    def platform_refs(self) -> Collection[str]:
        """The refs of the providers file's models: only these are ever a label."""
        if self._platform_refs is None:
            if has_app_context():
                self._platform_refs = platform_catalog().models
            else:
                with self.app.app_context():
                    self._platform_refs = platform_catalog().models
        return self._platform_refs
