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
        delay, attempt, throttled = backoff, 1, 0.0
        while True:
            try:
                return await dispatch_step(app, dispatcher, request)
            except ApiError as error:
                # A rate limit paces a job instead of failing it: wait as told, within JOB_RATE_LIMIT_MAX_WAIT_SECONDS.
                pause = rate_limit_pause(error)
                if pause is not None and throttled + pause <= max_throttled:
                    throttled += pause
                    await asyncio.sleep(pause)
                    continue
                if error.code not in RETRYABLE_CODES or attempt == attempts:
                    raise StepFailed(step.key, error.code, error.message) from None
            await asyncio.sleep(delay)
            delay, attempt = delay * 2, attempt + 1

    return call


async def dispatch_step(app: Flask, dispatcher: Dispatcher, request: DispatchRequest) -> StepOutcome:
    """One pass of the dispatcher's fallback loop with awaited provider calls; the SkillRun is returned, not stored."""
    run = await asyncio.to_thread(in_context, app, dispatcher.admit, request)
    decision = run.decision
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
        raise all_failed(decision)
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


def rate_limit_pause(error: ApiError) -> float | None:
    """Seconds a rate-limited call asks to wait (its Retry-After), or None for any other error."""
    if error.code != "rate_limited":
        return None
    try:
        return max(0.1, float(error.headers.get("Retry-After", 1)))
    except ValueError:
        return 1.0


def in_context(app: Flask, function: Callable[..., Any], *args: Any) -> Any:
    """Call function inside an app context (for a worker thread of asyncio.to_thread)."""
    with app.app_context():
        return function(*args)
