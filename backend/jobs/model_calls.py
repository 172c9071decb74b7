"""The model call behind each job step: E2's dispatcher (routing, circuits, budgets, fallbacks), made awaitable.

`Dispatcher.complete` records its SkillRun and settles its budget hold itself. A job step must instead store both in
the same transaction as the step (backend.jobs.runner), or a worker dying between them would meter and charge a step
twice when the job resumes (a hold it never settled expires: backend.metering.budgets). So the same fallback loop
runs here on the bridge loop, with awaited provider calls (which a cancel aborts), and hands the SkillRun fields and
the settlement back to the runner. A call that fails or is cancelled is recorded at once (it cost nothing, and no
step will carry it).

Switch the factory with JOB_STEP_CALLERS = "module:function" (for instance to a dispatch-layer version).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from backend.admin.settings import settings_row
from backend.dispatch import Dispatcher, DispatchRequest
from backend.errors import ApiError
from backend.jobs.runner import Step, StepCaller, StepFailed, StepOutcome
from backend.metering.usage import RunRecord, skill_run_fields
from backend.providers.base import ProviderError, reached_output_limit
from backend.providers.instances import provider_instance
from backend.routing.failures import all_failed, stop_error

# Errors after which trying the same step again later can help (the router already tried every candidate).
RETRYABLE_CODES = frozenset({"all_models_failed", "rate_limited"})
# How a provider says "not now": failures that pace a job (see `throttle_pause`) instead of using its attempts.
THROTTLED_KINDS = frozenset({"rate_limited", "overloaded", "circuit_half_open_busy"})
THROTTLE_BACKOFF_MAX_SECONDS = 30.0  # the longest pause between tries when no Retry-After says how long


def load_step_callers(app: Flask) -> Callable[..., StepCaller]:
    """The factory named by JOB_STEP_CALLERS ("module:function")."""
    module_name, _, function_name = str(app.config["JOB_STEP_CALLERS"]).partition(":")
    return getattr(importlib.import_module(module_name), function_name)


def job_step_callers(job: Any, skill: Any, data: dict[str, Any]) -> StepCaller:
    """A step caller for one job: each step is one routed, metered model call, retried with backoff."""
    app = current_app._get_current_object()
    dispatcher = Dispatcher.for_tenant(app, job.tenant_id, settings_row(job.tenant_id))
    attempts = max(1, int(app.config["JOB_STEP_ATTEMPTS"]))
    backoff = float(app.config["JOB_RETRY_BACKOFF_SECONDS"])
    max_throttled = float(app.config["JOB_RATE_LIMIT_MAX_WAIT_SECONDS"])
    needs = {
        "sensitivity": data.get("sensitivity") or "general",
        "capabilities": skill.needed_capabilities(False),
        "preferred_tier": skill.spec.model.preferred_tier,
    }
    ids = {"tenant_id": job.tenant_id, "user_id": job.user_id, "skill_id": job.skill_id, "job_id": job.id}

    async def call(step: Step) -> StepOutcome:
        """Dispatch the step's ChatRequest; retry the whole routing after a pause while failures are transient."""
        request = DispatchRequest(chat=step.payload, **ids, **needs)
        delay, attempt, throttled, throttle_delay = backoff, 1, 0.0, backoff
        while True:
            try:
                return await dispatch_step(app, dispatcher, request)
            except ApiError as error:
                # A rate limit (ours, or every model's provider) paces a job instead of failing it: wait as told,
                # within JOB_RATE_LIMIT_MAX_WAIT_SECONDS in all; such waits use none of the step's attempts.
                pause = throttle_pause(error, throttle_delay)
                if pause is not None and throttled + pause <= max_throttled:
                    throttled += pause
                    throttle_delay = min(throttle_delay * 2, THROTTLE_BACKOFF_MAX_SECONDS)
                    await asyncio.sleep(pause)
                    continue
                if error.code not in RETRYABLE_CODES or attempt == attempts:
                    raise StepFailed(step.key, error.code, error.message, step_error_details(error)) from None
            await asyncio.sleep(delay)
            delay, attempt = delay * 2, attempt + 1

    return call


async def dispatch_step(app: Flask, dispatcher: Dispatcher, request: DispatchRequest) -> StepOutcome:
    """One pass of the dispatcher's fallback loop with awaited provider calls; the SkillRun is returned, not stored."""
    run = await asyncio.to_thread(in_context, app, dispatcher.admit, request)
    decision = run.decision
    retry_after = 0.0  # the longest Retry-After a provider answered with
    try:
        for model in decision.candidates:
            if not await asyncio.to_thread(dispatcher.may_try, decision, model):
                continue
            config = dispatcher.catalog.provider_of(model)
            provider = provider_instance(dispatcher.registry, config)
            try:
                async with provider_gate(app, config):
                    completion = await provider.complete(model, request.chat)
            except ProviderError as error:
                await asyncio.to_thread(dispatcher.attempt_failed, decision, model, error)
                retry_after = max(retry_after, error.retry_after or 0.0)
                if error.retryable:
                    continue
                raise stop_error(decision, error) from None
            except BaseException:  # the step cancelled (or a bug): a half-open model's probe is given back at once
                dispatcher.attempt_abandoned(decision, model, answered=False)
                raise
            await asyncio.to_thread(dispatcher.attempt_succeeded, decision, model)
            elapsed = int((time.monotonic() - run.started) * 1000)
            record = RunRecord(request.tenant_id, request.user_id, request.skill_id, model=model,
                               usage=completion.usage, latency_ms=elapsed, time_to_first_token_ms=elapsed,
                               routing=decision.to_json(), job_id=request.job_id)  # fmt: skip
            # The SkillRun and the budget settlement are stored with the step (run.finished stops finish()).
            run.finished = True
            settle = functools.partial(run.budgets.settle, run.hold, record.cost_usd)
            cut_off = reached_output_limit(completion.finish_reason)
            return StepOutcome(completion.text, [skill_run_fields(record)], [settle], cut_off)
        raise with_retry_after(all_failed(decision), retry_after)
    except ApiError as failure:
        await asyncio.to_thread(run.finish, None, None, "failed", failure.code)
        raise
    except asyncio.CancelledError:
        run.finish(None, None, "cancelled", "cancelled")  # the job was cancelled: release the hold, say so
        raise
    finally:
        if not run.finished:
            run.finish(None, None, "failed", "internal_error")


_gates: dict[tuple, asyncio.Semaphore] = {}


def provider_gate(app: Flask, config: Any) -> asyncio.Semaphore:
    """At most N calls in flight per provider in this worker process, however many jobs fan out at once.

    N is the provider's `extra.max_concurrency` (providers file) or JOB_PROVIDER_CONCURRENCY: a self-hosted GPU
    server or a hosted account's concurrency limit is shared by every job, not granted to each.
    """
    limit = int(config.extra.get("max_concurrency") or app.config["JOB_PROVIDER_CONCURRENCY"])
    key = (id(asyncio.get_running_loop()), config.owner, config.name, limit)
    gate = _gates.get(key)
    if gate is None:
        gate = _gates[key] = asyncio.Semaphore(limit)
    return gate


def throttle_pause(error: ApiError, default: float) -> float | None:
    """Seconds to wait before trying a throttled step again, or None when the failure is no throttling.

    Throttling is our own rate limit (`rate_limited`, with its Retry-After) or `all_models_failed` where every model
    tried was rate limited or overloaded, or skipped because its circuit is open (a provider's Retry-After opens it:
    the other steps of the job then find it open). The provider's Retry-After, if one was given, is the pause;
    otherwise `default`. An exhausted budget is no throttling: it stays exhausted until the month ends.
    """
    if error.code == "rate_limited":
        return retry_after_of(error) or 1.0
    if error.code != "all_models_failed" or not isinstance(error.details, dict):
        return None
    attempts = error.details.get("attempts") or []
    circuits_open = "circuit_open" in (error.details.get("skipped") or {}).values()
    if not all(attempt.get("error") in THROTTLED_KINDS for attempt in attempts) or not (attempts or circuits_open):
        return None
    return retry_after_of(error) or max(0.1, default)


def retry_after_of(error: ApiError) -> float | None:
    """The error's Retry-After in seconds (at least 0.1), or None without a usable one."""
    try:
        value = float(error.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return max(0.1, value)


def with_retry_after(error: ApiError, seconds: float) -> ApiError:
    """The error with a Retry-After header when a provider gave one (whole seconds, rounded up)."""
    if seconds > 0:
        error.headers = {**(error.headers or {}), "Retry-After": str(math.ceil(seconds))}
    return error


def step_error_details(error: ApiError) -> dict[str, Any] | None:
    """What a failed job's error may show of the step's last failure: the attempts (model, error kind, status) and
    skipped models of `all_models_failed`, a budget's scope, a limit's name; never a key or any text."""
    return error.details if isinstance(error.details, dict) else None


def in_context(app: Flask, function: Callable[..., Any], *args: Any) -> Any:
    """Call function inside an app context (for a worker thread of asyncio.to_thread)."""
    with app.app_context():
        return function(*args)
