"""Circuits in the fallback loop: a throttled or failing model is routed around for a bounded time, one caller at a
time probes it when it is half-open, every attempt ends its probe, and a tenant's own provider has circuits of its
own. Same servers and app as tests/test_dispatch.py."""

from __future__ import annotations

import time

import pytest

from backend.catalog import platform_catalog
from backend.dispatch import Dispatcher
from backend.errors import ApiError
from backend.extensions import db
from tests.conftest import add_tenant_with_user
from tests.fakes import Fault
from tests.fakes.harness import TEST_KEY
from tests.test_dispatch import CHEAP, CLAUDE, app, call, dispatcher, own_provider_instances, servers  # noqa: F401


def test_a_429_with_retry_after_keeps_the_model_out_of_routing(app, servers):
    openai, _ = servers
    openai.fail_next(1, Fault.rate_limited("30"))
    dispatcher(app).complete(call())
    second = dispatcher(app).complete(call())
    assert second.routing["skipped"] == {CHEAP: "circuit_open"} and len(openai.requests) == 1


def test_a_half_open_model_is_probed_by_one_caller_only(app, servers):
    from backend.routing.circuit import circuit_breaker

    circuits = circuit_breaker(app)
    circuits.record_failure(CHEAP, retry_after=0.2)
    time.sleep(0.25)  # cool-down over: half-open
    assert circuits.try_probe(CHEAP)  # another process is probing right now
    busy = dispatcher(app).complete(call())
    assert busy.model.ref == CLAUDE
    assert busy.routing["attempts"] == [{"model": CHEAP, "error": "circuit_half_open_busy", "status": None}]
    circuits.record_success(CHEAP)  # that probe succeeded: closed again
    assert dispatcher(app).complete(call()).model.ref == CHEAP


def test_health_lists_each_platform_models_circuit(app, servers):
    from backend.routing.circuit import circuit_breaker

    client = app.test_client()
    assert client.get("/api/health").get_json()["checks"]["providers"] == {CHEAP: "closed", CLAUDE: "closed"}
    breaker = circuit_breaker(app)
    for _ in range(int(app.config["CIRCUIT_FAILURE_THRESHOLD"])):
        breaker.record_failure(CHEAP)
    reply = client.get("/api/health")
    assert reply.get_json()["checks"]["providers"] == {CHEAP: "open", CLAUDE: "closed"}
    assert reply.status_code == 200  # informational: the same outage for every replica, routed around


def test_a_tenants_own_provider_never_opens_the_circuit_of_the_platform_model_of_the_same_name(app, servers):
    """Circuits are shared by every tenant: a tenant's own endpoint (here throttling with a long Retry-After) must
    open only that tenant's circuit, never the platform model another tenant routes to under the same ref."""
    from backend.catalog.tenant import merge_tenant_providers

    openai, _ = servers
    add_tenant_with_user("t2", "u2", "o2")
    own_endpoint = {"name": "cheap", "type": "openai", "api_key": TEST_KEY,
                    "base_url": openai.base_url.replace("127.0.0.1", "localhost")}  # fmt: skip
    tenant_catalog = merge_tenant_providers(platform_catalog(), "t1", [own_endpoint], ["localhost"], {})
    assert tenant_catalog.providers["cheap"].owner == "t1"
    openai.fail_next(1, Fault.rate_limited("3600"))
    assert Dispatcher(app, tenant_catalog, {}).complete(call()).model.ref == CLAUDE
    assert Dispatcher(app, tenant_catalog, {}).complete(call()).routing["skipped"] == {CHEAP: "circuit_open"}
    other = call()
    other.tenant_id, other.user_id = "t2", "u2"
    result = dispatcher(app).complete(other)
    assert result.model.ref == CHEAP and result.routing["skipped"] == {}


@pytest.mark.parametrize("retry_after", ["nan", "inf", "1e12", "-5"])
def test_an_absurd_retry_after_still_falls_back_and_opens_the_circuit_for_a_bounded_time(app, servers, retry_after):
    """A throttled model's Retry-After is the provider's to choose: nonsense must neither break the call nor shut a
    platform model out of routing for years."""
    from backend.models.accounting import CircuitState
    from backend.providers.retry_headers import MAX_RETRY_AFTER_SECONDS

    openai, _ = servers
    openai.fail_next(1, Fault.rate_limited(retry_after))
    assert dispatcher(app).complete(call()).model.ref == CLAUDE
    db.session.expire_all()
    assert db.session.get(CircuitState, CHEAP).open_until <= time.time() + MAX_RETRY_AFTER_SECONDS


def assert_open_for(app, ref: str, seconds: float, started: float, finished: float) -> None:
    """The model's circuit, tripped by a call between `started` and `finished`, is open for `seconds` from then,
    and half-open after."""
    from backend.models.accounting import CircuitState
    from backend.routing.circuit import circuit_breaker

    db.session.expire_all()
    open_until = db.session.get(CircuitState, ref).open_until
    assert started + seconds - 0.001 <= open_until <= finished + seconds + 0.001  # (float rounding)
    shared = circuit_breaker(app).breaker  # the shared store itself: the process's cache knows no other `now`
    assert shared.states([ref], now=started + seconds - 0.01) == {ref: "open"}
    assert shared.states([ref], now=finished + seconds + 0.01) == {ref: "half_open"}


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"x_ratelimit_reset_requests": "6m0s", "x_ratelimit_reset_tokens": "20ms"}, 360),
        ({"x_ratelimit_reset_requests": "20ms", "x_ratelimit_remaining_requests": "0",
          "x_ratelimit_reset_tokens": "6m0s", "x_ratelimit_remaining_tokens": "9000"}, 0.02),
        ({"x_ratelimit_reset_tokens": "59m3.5s"}, 3543.5),
        ({"x_ratelimit_reset_tokens": "1h2m3.5s"}, 3600),  # held to MAX_RETRY_AFTER_SECONDS, as a Retry-After is
    ],
    ids=["latest", "exhausted", "fractional", "bounded"],
)  # fmt: skip
def test_a_429_without_retry_after_keeps_the_circuit_open_until_its_rate_limit_resets(app, servers, headers, seconds):
    """OpenAI and Azure say when a limit resets (x-ratelimit-reset-*) rather than Retry-After: the model stays out
    of routing that long, not the circuit's default cool-down."""
    openai, _ = servers
    openai.fail_next(1, Fault.rate_limited_with(**headers))
    started = time.time()
    assert dispatcher(app).complete(call()).model.ref == CLAUDE
    assert_open_for(app, CHEAP, seconds, started, time.time())


def test_an_anthropic_429_keeps_the_circuit_open_until_its_exhausted_limit_resets(app, servers):
    """Anthropic writes its resets as RFC 3339 moments; the limit at 0 is the one that refused the call."""
    from datetime import UTC, datetime

    _, claude = servers
    started = time.time()
    moment = datetime.fromtimestamp(int(started) + 120, UTC).isoformat()
    later = datetime.fromtimestamp(int(started) + 900, UTC).isoformat()
    claude.fail_next(1, Fault.rate_limited_with(
        anthropic_ratelimit_output_tokens_reset=moment, anthropic_ratelimit_output_tokens_remaining="0",
        anthropic_ratelimit_requests_reset=later, anthropic_ratelimit_requests_remaining="12",
    ))  # fmt: skip
    result = dispatcher(app, routing={"mode": "quality"}).complete(call())
    assert result.model.ref == CHEAP and result.routing["attempts"][0]["error"] == "rate_limited"
    assert_open_for(app, CLAUDE, int(started) + 120 - started, started, time.time())


def half_open(app, ref: str = CHEAP) -> None:
    """Trip the model's circuit for a moment and wait until it is half-open: the next caller probes it."""
    from backend.routing.circuit import circuit_breaker

    circuit_breaker(app).record_failure(ref, retry_after=0.2)
    time.sleep(0.25)


@pytest.mark.parametrize("status", [400, 401, 403, 422])
@pytest.mark.parametrize("streamed", [False, True])
def test_a_probe_answered_with_a_non_retryable_error_closes_the_circuit(app, servers, status, streamed):
    """An error status is an answer: the model is reachable, so its probe ends and other callers use it again,
    instead of skipping a healthy model until the probe timeout."""
    openai, _ = servers
    half_open(app)
    openai.fail_next(1, Fault.http_status(status))
    with pytest.raises(ApiError) as caught:
        list(dispatcher(app).stream(call())) if streamed else dispatcher(app).complete(call())
    assert caught.value.code in ("provider_rejected_request", "provider_auth_failed")
    result = dispatcher(app).complete(call())
    assert result.model.ref == CHEAP and result.routing["attempts"] == []


def test_a_probe_whose_caller_leaves_after_text_closes_the_circuit(app, servers):
    """Text arrived: the model was working, whatever the caller did next."""
    half_open(app)
    stream = dispatcher(app).stream(call())
    assert next(stream)[0] == "meta"
    stream.close()
    result = dispatcher(app).complete(call())
    assert result.model.ref == CHEAP and result.routing["attempts"] == []


class CallerGone(BaseException):
    """What a cancelled caller sees raised while it waits (as gevent's Timeout or GreenletExit would be)."""


@pytest.mark.parametrize("streamed", [False, True])
def test_a_probe_whose_caller_leaves_before_any_text_is_given_back(app, servers, streamed, own_provider_instances):
    """No answer yet: nothing is known of the model, so its circuit stays half-open, but the probe is given back
    at once for the next caller instead of blocking everyone until the probe timeout."""
    from backend.providers import PROVIDERS
    from backend.providers.openai import OpenAIProvider
    from backend.routing.circuit import circuit_breaker

    class LeftBeforeAnyText(OpenAIProvider):
        async def complete(self, model, request):
            raise CallerGone

        async def stream(self, model, request):
            raise CallerGone
            yield  # an async generator

    half_open(app)
    gone = Dispatcher(app, platform_catalog(), {}, registry={**PROVIDERS, "openai": LeftBeforeAnyText})
    with pytest.raises(CallerGone):
        list(gone.stream(call())) if streamed else gone.complete(call())
    own_provider_instances.clear()  # the next callers get the real provider (this one never opened a client)
    assert circuit_breaker(app).states([CHEAP]) == {CHEAP: "half_open"}
    result = dispatcher(app).complete(call())
    assert result.model.ref == CHEAP and result.routing["attempts"] == []  # probed at once, and closed


def test_a_cancelled_job_step_gives_back_its_probe(app, servers, own_provider_instances):
    """The jobs layer runs the same fallback steps around its awaited calls: a step cancelled while it probes a
    half-open model gives the probe back too."""
    import asyncio

    from backend.jobs.model_calls import dispatch_step
    from backend.providers import PROVIDERS
    from backend.providers.openai import OpenAIProvider
    from backend.routing.circuit import circuit_breaker

    class CancelledWhileWaiting(OpenAIProvider):
        async def complete(self, model, request):
            raise asyncio.CancelledError

    half_open(app)
    cancelled = Dispatcher(app, platform_catalog(), {}, registry={**PROVIDERS, "openai": CancelledWhileWaiting})
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(dispatch_step(app, cancelled, call()))
    own_provider_instances.clear()
    assert circuit_breaker(app).states([CHEAP]) == {CHEAP: "half_open"}
    result = dispatcher(app).complete(call())
    assert result.model.ref == CHEAP and result.routing["attempts"] == []
