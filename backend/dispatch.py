"""The fallback loop: rate limit -> route -> reserve budget -> try each candidate -> settle -> record the SkillRun.

Sync code (Flask views, Celery tasks) calls `Dispatcher.complete` or `Dispatcher.stream` (an SSE stream's answer in
one piece: `Dispatcher.answer_in_one_piece` with a silence, which it reports while it waits); provider calls run on the
process's one asyncio loop through backend.asyncbridge. A retryable ProviderError (connect, timeout, 429, 5xx, 529)
opens or feeds that model's circuit and moves to the next candidate; any other error stops with a clean ApiError.
Once a stream has yielded text, nothing is retried: the partial usage is recorded and `stream_interrupted` raised.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from flask import Flask

from backend import asyncbridge
from backend.catalog import Catalog
from backend.errors import ApiError
from backend.metering.budgets import budgets_for, max_call_micros
from backend.metering.call_accounting import CallAccounting
from backend.metering.ratelimits import check_rate_limits
from backend.models.columns import new_id
from backend.providers.base import (
    ChatRequest,
    Completion,
    ModelSpec,
    Provider,
    ProviderError,
    Usage,
    reached_output_limit,
)
from backend.providers.instances import provider_instance
from backend.providers.usage import usage_or_estimate
from backend.routing.circuit import circuit_breaker, circuit_key
from backend.routing.failures import all_failed, attempt_error, interrupted, stop_error
from backend.routing.policy import TenantPolicy
from backend.routing.router import RoutingDecision, RoutingNeed, route_candidates
from backend.routing.tokens import count_prompt_tokens

T = TypeVar("T")


@dataclass
class DispatchRequest:
    """One call of a skill: who, which skill, the chat, and what the answer needs."""

    tenant_id: str
    user_id: str
    skill_id: str
    chat: ChatRequest
    sensitivity: str = "general"
    capabilities: frozenset[str] = frozenset()
    preferred_tier: int | None = None
    job_id: str | None = None


@dataclass
class DispatchResult:
    """A finished call: the text, who answered, what it used and cost."""

    run_id: str
    text: str
    model: ModelSpec
    usage: Usage
    cost_usd: Decimal
    routing: dict[str, Any]
    finish_reason: str | None = None

    @property
    def cut_off(self) -> bool:
        """The answer reached the call's max_output_tokens and ends where the model was stopped."""
        return reached_output_limit(self.finish_reason)

    def model_info(self) -> dict[str, str]:
        """The contract's `model` object."""
        return model_info(self.model)


def prompt_texts(chat: ChatRequest) -> list[str]:
    """What a call sends that the model counts as prompt: its messages and, for structured output, the JSON schema
    (the providers put it in the request; a large one would otherwise escape the context check and the hold)."""
    texts = [message.content for message in chat.messages]
    if chat.json_schema is not None:
        texts.append(json.dumps(chat.json_schema, separators=(",", ":")))
    return texts


class Dispatcher:
    """Everything one tenant's calls go through; cheap to build per request."""

    def __init__(self, app: Flask, catalog: Catalog, policy: Any, registry: dict[str, type[Provider]] | None = None):
        if registry is None:
            from backend.providers import PROVIDERS as registry
        self.app, self.catalog, self.registry = app, catalog, registry
        self.policy = TenantPolicy.from_settings(policy)
        self.circuits = circuit_breaker(app)
        self.budgets = budgets_for(app)

    @classmethod
    def for_tenant(cls, app: Flask, tenant_id: str, settings: Any) -> Dispatcher:
        """The dispatcher of a tenant (inside an app context): its catalog, and its TenantSettings row compiled."""
        from backend.catalog import tenant_catalog
        from backend.routing.policy import policy_for

        return cls(app, tenant_catalog(tenant_id), policy_for(tenant_id, settings))

    # admit / may_try / attempt_failed / attempt_succeeded / attempt_abandoned are the steps of the fallback loop;
    # `answer_in_one_piece` (so `complete`) and `stream` run them here, and the jobs layer (model_calls.py)
    # runs them around its own awaited calls. Every attempt ends in exactly one of the last three, so a half-open
    # model's probe never stays claimed (skipped by every other caller) until the probe timeout.
    def admit(self, request: DispatchRequest) -> CallAccounting:
        """Rate limits, routing and the budget hold; raises the matching ApiError (nothing held) when refused."""
        chat = request.chat
        prompt_tokens = count_prompt_tokens(prompt_texts(chat))
        check_rate_limits(self.app, request.tenant_id, request.user_id, self.policy.rate_limits,
                          tokens=prompt_tokens + chat.max_output_tokens)  # fmt: skip
        need = RoutingNeed(request.skill_id, request.sensitivity, prompt_tokens, chat.max_output_tokens,
                           frozenset(request.capabilities), request.preferred_tier)  # fmt: skip
        decision = route_candidates(self.catalog, self.policy, need, self.circuits)
        if not decision.candidates:
            raise all_failed(decision)
        # Hold the most any candidate could cost: a fallback to a dearer model stays within the hold.
        micros = max(max_call_micros(m, prompt_tokens, chat.max_output_tokens) for m in decision.candidates)
        hold = self.budgets.reserve(request.tenant_id, request.user_id, micros, self.policy.budgets)
        return CallAccounting(self.app, request, decision, hold, self.budgets, new_id(), time.monotonic(), self.catalog)

    def may_try(self, decision: RoutingDecision, model: ModelSpec) -> bool:
        """A half-open model is tried only by the one caller that wins its probe."""
        if model.ref in decision.half_open and not self.circuits.try_probe(circuit_key(self.catalog, model)):
            decision.attempts.append({"model": model.ref, "error": "circuit_half_open_busy", "status": None})
            return False
        return True

    def attempt_failed(self, decision: RoutingDecision, model: ModelSpec, error: ProviderError) -> None:
        """Record a failed attempt and what it tells of the model's health.

        A retryable failure (connect, timeout, 429, 5xx) feeds the model's circuit. An error status that is not
        retryable (400, 401, 403, 422...) is an answer: the model is reachable, which is all its circuit tracks, so it
        counts as a success there (closing a half-open circuit; without a write while the circuit is seen closed). A
        failure with no answer (no key configured, a garbled reply) tells nothing: a probe it held is given back.
        """
        decision.attempts.append(attempt_error(model, error))
        if error.retryable:
            self.circuits.record_failure(circuit_key(self.catalog, model), retry_after=error.retry_after)
        elif error.status is not None:
            self.circuits.record_success(circuit_key(self.catalog, model))
        else:
            self.give_back_probe(decision, model)

    def attempt_succeeded(self, decision: RoutingDecision, model: ModelSpec) -> None:
        """Close the model's circuit and mark it chosen."""
        self.circuits.record_success(circuit_key(self.catalog, model))
        decision.chosen = model.ref

    def attempt_abandoned(self, decision: RoutingDecision, model: ModelSpec, answered: bool) -> None:
        """An attempt ended by its caller (gone, timed out, the worker stopping) or by a bug, not by the model.

        Text already received shows the model working: a success for its circuit. Before any text nothing is
        known: the circuit is left as it is, but a half-open model's probe this attempt claimed is given back, so
        the next caller may probe at once.
        """
        if answered:
            self.circuits.record_success(circuit_key(self.catalog, model))
        else:
            self.give_back_probe(decision, model)

    def give_back_probe(self, decision: RoutingDecision, model: ModelSpec) -> None:
        """Release the probe of a half-open model this attempt claimed, without a verdict (no round trip otherwise)."""
        if model.ref in decision.half_open:  # only then did `may_try` claim the probe
            self.circuits.release_probe(circuit_key(self.catalog, model))

    def stopped(self, run: CallAccounting, model: ModelSpec, error: ProviderError) -> ApiError:
        """The clean error of a failure that is not retried; what the model generated before it (a filtered answer)
        is metered against that model."""
        failure = stop_error(run.decision, error)
        if error.usage is not None:
            run.finish(model, error.usage, "failed", failure.code)
        return failure

    def tries(self, decision: RoutingDecision) -> Iterator[tuple[ModelSpec, Provider]]:
        """The candidates this call may try, in order, each with its provider object."""
        for model in decision.candidates:
            if self.may_try(decision, model):
                yield model, provider_instance(self.registry, self.catalog.provider_of(model))

    def complete(self, request: DispatchRequest) -> DispatchResult:
        """Answer in one piece, falling back across candidates."""
        return run_to_end(self.answer_in_one_piece(request))

    def answer_in_one_piece(
        self, request: DispatchRequest, silence: asyncbridge.Silence | None = None
    ) -> Generator[object, None, DispatchResult]:
        """The fallback loop of an answer in one piece; returns the DispatchResult. With a silence (an SSE stream), it
        yields SILENCE whenever nobody noted it for its seconds while a model works (the SSE writer then sends a
        keepalive); without one it never yields (`complete`). Closing it (the client gone), a gevent Timeout or the
        worker stopping cancels the provider call in flight: the run is recorded as cancelled, its hold settled, the
        circuit left as it is, as for a cancelled stream (nothing was generated that a provider reports before its
        answer)."""

        def wait(provider: Provider, model: ModelSpec) -> Iterator[Any]:
            if silence is None:
                return _answer_now(provider, model, request.chat)
            answering = partial(_one_answer, provider, model, request.chat)  # started on the bridge's loop
            return asyncbridge.iterate(answering, max_buffer=1, silence_after=silence)

        run = self.admit(request)
        decision = run.decision
        try:
            for model, provider in self.tries(decision):
                waiting = wait(provider, model)
                try:
                    for item in waiting:
                        if item is asyncbridge.SILENCE:
                            yield item
                        else:
                            completion = item
                except ProviderError as error:
                    self.attempt_failed(decision, model, error)
                    if error.retryable:
                        continue
                    raise self.stopped(run, model, error) from None
                except BaseException as stop:  # closed (GeneratorExit), a gevent Timeout, the worker stopping, a bug
                    bug = isinstance(stop, Exception)
                    outcome, code = ("failed", "internal_error") if bug else ("cancelled", "cancelled")
                    run.finish(None, None, outcome, code)
                    self.attempt_abandoned(decision, model, answered=False)
                    raise
                finally:
                    waiting.close()  # cancels the provider call if it is still running
                return self.answered(run, model, completion)
            raise all_failed(decision)
        except ApiError as failure:
            run.finish(None, None, "failed", failure.code)
            raise
        finally:
            run.finish(None, None, "failed", "internal_error")  # only if nothing above finished it

    def answered(self, run: CallAccounting, model: ModelSpec, completion: Completion) -> DispatchResult:
        """A call answered in one piece: close the model's circuit, meter the answer, and return it."""
        decision = run.decision
        self.attempt_succeeded(decision, model)
        run.first_token = time.monotonic()
        cost = run.finish(model, completion.usage, "succeeded", None)
        return DispatchResult(run.run_id, completion.text, model, completion.usage, cost, decision.to_json(),
                              completion.finish_reason)  # fmt: skip

    def stream(self, request: DispatchRequest, silence: asyncbridge.Silence | None = None) -> Iterator[tuple[str, Any]]:
        """Yield ("meta", {run_id, model}) before the first text, ("delta", text)..., then ("done", DispatchResult);
        with a silence, also ("quiet", None) whenever nobody noted it for its seconds while waiting for the model (the
        SSE writer notes each write: a keepalive then reaches the client, since proxies cut an idle connection and a
        client that left is only noticed when something is written)."""
        run = self.admit(request)
        run.streamed = True
        decision = run.decision
        try:
            for model, provider in self.tries(decision):
                chunks = asyncbridge.iterate(
                    lambda p=provider, m=model: p.stream(m, request.chat), silence_after=silence
                )
                texts: list[str] = []
                usage: Usage | None = None
                finish_reason: str | None = None
                try:
                    for chunk in chunks:
                        if chunk is asyncbridge.SILENCE:  # nothing written that long (the model thinking): say so
                            yield "quiet", None
                            continue
                        usage = chunk.usage or usage
                        finish_reason = chunk.finish_reason or finish_reason
                        if chunk.text:
                            texts.append(chunk.text)  # generated, hence metered, even if the caller leaves at `meta`
                            if len(texts) == 1:
                                run.first_token = time.monotonic()
                                decision.chosen = model.ref
                                yield "meta", {"run_id": run.run_id, "model": model_info(model)}
                            yield "delta", chunk.text
                except ProviderError as error:
                    self.attempt_failed(decision, model, error)
                    if texts:  # text reached the caller: never retried, never silently cut
                        failure = interrupted(run.run_id, error)
                        run.finish(model, error.usage, "interrupted", failure.code)
                        raise failure from None
                    if error.retryable:
                        continue
                    raise self.stopped(run, model, error) from None
                except BaseException as stop:
                    # Cut by the caller going away (GeneratorExit; a gevent Timeout or GreenletExit while it waits),
                    # the worker stopping, or a bug: what was generated is metered all the same. Providers report
                    # usage only at the end of a stream, so the cut one's is estimated from the text received.
                    partial = usage_or_estimate(usage, request.chat.messages, "".join(texts), False) if texts else None
                    bug = isinstance(stop, Exception)  # the others (GeneratorExit, Timeout...) are BaseExceptions
                    outcome, code = ("failed", "internal_error") if bug else ("cancelled", "cancelled")
                    run.finish(model if texts else None, partial, outcome, code)
                    self.attempt_abandoned(decision, model, answered=bool(texts))
                    raise
                finally:
                    chunks.close()
                self.attempt_succeeded(decision, model)
                usage = usage or Usage()
                cost = run.finish(model, usage, "succeeded", None)  # before the last yields: the caller may leave
                if not texts:  # an empty answer: still say who answered, before `done`
                    yield "meta", {"run_id": run.run_id, "model": model_info(model)}
                yield "done", DispatchResult(run.run_id, "".join(texts), model, usage, cost, decision.to_json(),
                                             finish_reason)  # fmt: skip
                return
            raise all_failed(decision)
        except ApiError as failure:
            run.finish(None, None, "failed", failure.code)
            raise
        finally:
            run.finish(None, None, "failed", "internal_error")  # only if nothing above finished it


def preload_call_path() -> None:
    """Import every provider's SDK and Semantic Kernel connector and load the default tokenizer now, not on the
    first call: a serving worker and a job worker do it before they take work (backend/gunicorn_conf.py,
    backend/tasks/jobs.py). On first use they made a new worker's first caller wait seconds, and in a web worker
    their objects arrived after gc.freeze(), so every full collection walked them (bench/gc_pause.py: 72-87 ms per
    full collection against 2-4 ms)."""
    from backend.providers import preload_sdks

    preload_sdks()
    count_prompt_tokens(["warm up"])


def run_to_end(steps: Generator[object, None, T]) -> T:
    """What a generator returns, its yields dropped (one that reports no silences yields nothing)."""
    try:
        while True:
            next(steps)
    except StopIteration as finished:
        return finished.value


def _answer_now(provider: Provider, model: ModelSpec, chat: ChatRequest) -> Iterator[Completion]:
    """A provider's answer in one piece, waited for on the bridge (the call runs at the first `next`)."""
    yield asyncbridge.run_sync(provider.complete(model, chat))


async def _one_answer(provider: Provider, model: ModelSpec, chat: ChatRequest) -> AsyncIterator[Completion]:
    """A provider's answer in one piece as a one-item async generator, so the bridge can wait for it while it reports
    silences (`asyncbridge.iterate`); cancelling its pump cancels the call."""
    yield await provider.complete(model, chat)


def model_info(model: ModelSpec) -> dict[str, str]:
    """The contract's `model` object."""
    return {"provider": model.provider, "model": model.id, "location": model.location}
