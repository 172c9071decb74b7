"""The fallback loop end to end: real providers over HTTP to the fake OpenAI and Anthropic servers, real accounting."""

from __future__ import annotations

import textwrap
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend import create_app
from backend.catalog import platform_catalog
from backend.database import Base
from backend.dispatch import Dispatcher, DispatchRequest
from backend.errors import ApiError
from backend.extensions import db
from backend.metering.budgets import budgets_for
from backend.models import SkillRun
from backend.providers.base import ChatMessage, ChatRequest
from backend.routing.failures import StreamInterrupted
from tests.conftest import add_tenant_with_user
from tests.fakes import FakeAnthropic, FakeOpenAI, Fault
from tests.fakes.harness import TEST_KEY, write_two_providers

REPLY = "The quick brown fox jumps over the lazy dog"
CHEAP, CLAUDE = "cheap/gpt-test", "claude/claude-test"


@pytest.fixture
def servers():
    """The cheap model's OpenAI server and the dearer Anthropic one."""
    with FakeOpenAI(default_reply=REPLY, api_key=TEST_KEY) as openai, FakeAnthropic(default_reply=REPLY) as claude:
        yield openai, claude


@pytest.fixture
def app(tmp_path, app_config, servers, monkeypatch):
    """An app whose providers file names both fakes, with one tenant and one user."""
    openai, claude = servers
    monkeypatch.setenv("TEST_FAKE_KEY", TEST_KEY)
    providers = write_two_providers(tmp_path / "providers.yaml", openai, claude)
    app = create_app({**app_config, "PROVIDERS_FILE": str(providers), "CIRCUIT_STATE_CACHE_SECONDS": 0})
    with app.app_context():
        Base.metadata.create_all(db.engine)
        add_tenant_with_user()
        yield app
        db.session.close()
        db.engine.dispose()


@pytest.fixture
def own_provider_instances(monkeypatch):
    """An empty provider instance cache for one test; the instances left in it are closed after the test."""
    from backend import asyncbridge
    from backend.providers import instances as provider_instances

    instances: dict = {}
    monkeypatch.setattr(provider_instances, "_instances", instances)
    yield instances
    for provider in instances.values():
        asyncbridge.run_sync(provider.aclose())


def dispatcher(app, **settings) -> Dispatcher:
    """A dispatcher on the platform catalog with these tenant settings."""
    return Dispatcher(app, platform_catalog(), settings)


def call(max_output_tokens: int = 64) -> DispatchRequest:
    """A small summarize call."""
    messages = [ChatMessage("system", "be brief"), ChatMessage("user", "hello there world")]
    return DispatchRequest("t1", "u1", "summarize", ChatRequest(messages, max_output_tokens=max_output_tokens))


def runs() -> list[SkillRun]:
    """Every recorded run."""
    db.session.expire_all()
    return list(db.session.scalars(select(SkillRun).order_by(SkillRun.created_at)))


def budget_left_clean(app) -> Decimal:
    """The tenant's spend this month, after checking no reservation is left."""
    usage = budgets_for(app).usage("t1")
    assert usage["reserved_usd"] == 0
    return usage["spent_usd"]


def test_complete_answers_from_the_cheapest_model_and_meters_it(app, servers):
    result = dispatcher(app).complete(call())
    assert result.text == REPLY and result.model.ref == CHEAP
    run = runs()[0]
    assert (run.outcome, run.model, run.input_tokens, run.output_tokens) == ("succeeded", "gpt-test", *_tokens(result))
    assert run.routing["candidates"] == [CHEAP, CLAUDE] and run.routing["chosen"] == CHEAP
    assert budget_left_clean(app) == result.cost_usd > 0
    assert REPLY not in str(run.routing) and "hello there" not in str(run.routing)  # never any text


def _tokens(result) -> tuple[int, int]:
    """Input and output tokens of a result."""
    return result.usage.input_tokens, result.usage.output_tokens


@pytest.mark.parametrize("fault", [Fault.server_error(500), Fault.server_error(503), Fault.rate_limited("30")])
def test_retryable_failures_fall_back_to_the_next_model(app, servers, fault):
    openai, claude = servers
    openai.fail_next(1, fault)
    result = dispatcher(app).complete(call())
    assert result.model.ref == CLAUDE and result.text == REPLY
    assert result.routing["attempts"] == [{"model": CHEAP, "error": _kind(fault), "status": fault.status}]
    assert len(claude.requests) == 1
    assert budget_left_clean(app) == result.cost_usd


def _kind(fault: Fault) -> str:
    """The ProviderError kind a status fault maps to."""
    return "rate_limited" if fault.status == 429 else "server"


def test_non_retryable_errors_stop_without_fallback(app, servers):
    openai, claude = servers
    openai.fail_next(1, Fault.http_status(401))
    with pytest.raises(ApiError) as caught:
        dispatcher(app).complete(call())
    assert (caught.value.status, caught.value.code) == (502, "provider_auth_failed")
    assert TEST_KEY not in str(caught.value.to_dict())
    assert not claude.requests
    assert runs()[0].outcome == "failed" and budget_left_clean(app) == 0


def test_every_model_failing_is_all_models_failed_with_each_attempt(app, servers):
    openai, claude = servers
    openai.fail_next(1, Fault.server_error(500))
    claude.fail_next(1, Fault.overloaded())
    with pytest.raises(ApiError) as caught:
        dispatcher(app).complete(call())
    error = caught.value
    assert (error.status, error.code) == (502, "all_models_failed")
    assert [a["model"] for a in error.details["attempts"]] == [CHEAP, CLAUDE]
    assert runs()[0].error_code == "all_models_failed" and budget_left_clean(app) == 0


@pytest.mark.parametrize("fault", [Fault.server_error(502), Fault.stall(3.0)])  # the stall passes first_token: 2 s
def test_stream_falls_back_before_the_first_token_and_meta_names_the_model_that_answered(app, servers, fault):
    openai, _ = servers
    openai.fail_next(1, fault)
    events = list(dispatcher(app).stream(call()))
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "meta" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    assert events[0][1]["model"] == {"provider": "claude", "model": "claude-test", "location": "eu-west"}
    assert "".join(text for kind, text in events if kind == "delta") == REPLY
    done = events[-1][1]
    assert runs()[0].output_tokens == done.usage.output_tokens > 0
    assert budget_left_clean(app) == done.cost_usd


def test_a_stream_cut_after_text_is_never_retried_and_counts_what_was_generated(app, servers):
    openai, claude = servers
    openai.fail_next(1, Fault.cut_after(3))
    events = []
    with pytest.raises(StreamInterrupted) as caught:
        for event in dispatcher(app).stream(call()):
            events.append(event)
    assert caught.value.code == "stream_interrupted" and caught.value.status == 502
    text = "".join(t for kind, t in events if kind == "delta")
    assert text and REPLY.startswith(text) and text != REPLY  # the partial text, not duplicated
    assert not claude.requests
    run = runs()[0]
    assert (run.outcome, run.error_code) == ("interrupted", "stream_interrupted") and run.output_tokens > 0
    assert budget_left_clean(app) == Decimal(str(run.cost_usd)) > 0


def test_a_caller_that_goes_away_is_accounted(app, servers):
    stream = dispatcher(app).stream(call())
    assert next(stream)[0] == "meta"
    assert next(stream)[0] == "delta"
    stream.close()
    assert runs()[0].outcome == "cancelled"
    budget_left_clean(app)


def test_an_exhausted_budget_refuses_before_any_provider_call(app, servers):
    openai, _ = servers
    with pytest.raises(ApiError) as caught:
        dispatcher(app, budgets={"tenant_monthly_usd": 0.000001}).complete(call())
    assert (caught.value.status, caught.value.code) == (429, "budget_exhausted")
    assert int(caught.value.headers["Retry-After"]) > 0 and not openai.requests


def test_rate_limits_refuse_with_retry_after(app, servers):
    limited = dispatcher(app, rate_limits={"user_requests_per_minute": 1})
    limited.complete(call())
    with pytest.raises(ApiError) as caught:
        limited.complete(call())
    assert (caught.value.status, caught.value.code) == (429, "rate_limited")
    assert 59 <= int(caught.value.headers["Retry-After"]) <= 60  # 1 a minute: paid back a minute after the first


def test_data_policy_with_no_allowed_model_is_a_clean_error(app, servers):
    with pytest.raises(ApiError) as caught:
        dispatcher(app, data_policy={"general": {"locations": ["on-prem"]}}).complete(call())
    assert caught.value.code == "all_models_failed" and caught.value.status == 503
    assert caught.value.details["skipped"] == {CHEAP: "data_policy", CLAUDE: "data_policy"}


def test_dispatcher_for_a_tenant_uses_its_settings_row(app, servers):
    from backend.models import TenantSettings

    row = TenantSettings(tenant_id="t1", routing={"mode": "quality"}, data_policy={}, budgets={}, rate_limits={})
    db.session.add(row)
    db.session.commit()
    assert Dispatcher.for_tenant(app, "t1", row).complete(call()).model.ref == CLAUDE  # tier 1 first


def test_a_caller_that_goes_away_mid_stream_pays_for_what_was_generated(app, servers):
    """The provider only reports usage at the end of a stream: a cancelled one is metered from the text received."""
    stream = dispatcher(app).stream(call())
    assert next(stream)[0] == "meta"
    assert next(stream)[0] == "delta"
    stream.close()
    run = runs()[0]
    assert (run.outcome, run.model) == ("cancelled", "gpt-test")
    assert run.input_tokens > 0 and run.output_tokens > 0
    assert budget_left_clean(app) == Decimal(str(run.cost_usd)) > 0


def test_a_caller_that_goes_away_right_after_meta_pays_for_the_first_text(app, servers):
    """`meta` is sent once the first text arrived: that text was generated even if the caller leaves at once."""
    stream = dispatcher(app).stream(call())
    assert next(stream)[0] == "meta"
    stream.close()
    run = runs()[0]
    assert (run.outcome, run.model) == ("cancelled", "gpt-test") and run.output_tokens > 0
    assert budget_left_clean(app) == Decimal(str(run.cost_usd)) > 0


@pytest.mark.parametrize(("stop", "outcome"), [(KeyboardInterrupt, "cancelled"), (RuntimeError, "failed")])
def test_a_stream_cut_by_anything_after_text_pays_for_what_was_generated(app, servers, stop, outcome):
    """Not only the caller's GeneratorExit: a stream stopped while it waits (a gevent Timeout, the worker stopping)
    or by a bug after text arrived is metered from the text received, with the model that gave it."""
    stream = dispatcher(app).stream(call())
    assert next(stream)[0] == "meta"
    with pytest.raises(stop):
        stream.throw(stop())
    run = runs()[0]
    assert (run.outcome, run.model) == (outcome, "gpt-test") and run.output_tokens > 0
    assert budget_left_clean(app) == Decimal(str(run.cost_usd)) > 0


@pytest.mark.parametrize(("stop", "outcome"), [(KeyboardInterrupt, "cancelled"), (RuntimeError, "failed")])
def test_an_answer_in_one_piece_stopped_while_it_waits_settles_its_hold(app, servers, monkeypatch, stop, outcome):
    """A JSON call cut off while the model works (a gevent Timeout thrown into the waiting greenlet, the worker
    stopping) is recorded as cancelled, as a stream is; a bug as failed; neither keeps its hold reserved."""
    from backend import asyncbridge

    def stopped_while_waiting(coroutine):
        coroutine.close()
        raise stop()

    monkeypatch.setattr(asyncbridge, "run_sync", stopped_while_waiting)
    with pytest.raises(stop):
        dispatcher(app).complete(call())
    assert (runs()[0].outcome, runs()[0].error_code) == (
        outcome,
        "cancelled" if outcome == "cancelled" else "internal_error",
    )
    assert budgets_for(app).usage("t1")["reserved_usd"] == 0


def test_a_failed_run_record_still_settles_the_budget_hold(app, servers, monkeypatch):
    """Recording the SkillRun and settling are separate writes: a failing first one must not leave the call's hold
    (its maximum cost) reserved."""
    from backend.metering import call_accounting

    def database_hiccup(*args, **kwargs):
        raise RuntimeError("the database went away for a moment")

    monkeypatch.setattr(call_accounting, "record_run", database_hiccup)
    with pytest.raises(RuntimeError):
        dispatcher(app).complete(call())
    usage = budgets_for(app).usage("t1")
    assert usage["reserved_usd"] == 0 and usage["spent_usd"] > 0


@pytest.mark.parametrize("provider_type", ["selfhosted", "azure_openai"])
@pytest.mark.parametrize("streamed", [False, True])
def test_a_tenant_provider_without_a_base_url_is_a_clean_provider_error(app, servers, provider_type, streamed):
    """A provider that cannot even build its client is a configuration problem of that provider: a clean 502 the
    tenant admin can act on, never a 500 from deep inside the SDK setup."""
    from backend.catalog.tenant import merge_tenant_providers

    own = {"name": "gpu", "type": provider_type, "api_key": TEST_KEY,
           "models": [{"id": "llama", "context_window": 8192, "max_output_tokens": 1024}]}  # fmt: skip
    tenant_catalog = merge_tenant_providers(platform_catalog(), "t1", [own], [], {})
    pinned = {"routing": {"mode": "pinned", "pins": {"summarize": ["gpu/llama"]}}}
    tenant = Dispatcher(app, tenant_catalog, pinned)
    with pytest.raises(ApiError) as caught:
        list(tenant.stream(call())) if streamed else tenant.complete(call())
    assert (caught.value.status, caught.value.code) == (502, "provider_rejected_request")
    assert runs()[0].error_code == "provider_rejected_request" and budget_left_clean(app) == 0


def test_evicting_a_provider_instance_never_cuts_its_calls_in_flight(app, servers, own_provider_instances, monkeypatch):
    """Past MAX_PROVIDER_INSTANCES the oldest instance is dropped; its client is closed only once no call uses it,
    never under a stream in flight (which would fail, and count against a healthy model's circuit)."""
    from backend.providers import PROVIDERS, instances

    openai, _ = servers
    monkeypatch.setattr(instances, "MAX_PROVIDER_INSTANCES", 1)
    openai.script(fault=Fault.slow(0.05))
    stream = dispatcher(app).stream(call())
    assert next(stream)[0] == "meta"
    [evicted] = own_provider_instances.values()
    instances.provider_instance(PROVIDERS, platform_catalog().providers["claude"])  # evicts the one streaming
    assert evicted not in own_provider_instances.values()
    events = list(stream)
    assert events[-1][0] == "done" and events[-1][1].text == REPLY
    assert runs()[0].outcome == "succeeded"
    deadline = time.monotonic() + 2
    while evicted._client is not None and time.monotonic() < deadline:  # closed on the loop once the call ended
        time.sleep(0.01)
    assert evicted._client is None


def test_a_structured_output_schema_counts_as_prompt_tokens(app, servers):
    """The schema goes to the model with the prompt: a large one is counted against the limits, the context window
    and the budget hold like the messages (here, a tokens-per-minute limit that the messages alone fit)."""
    openai, _ = servers
    limited = dispatcher(app, rate_limits={"user_tokens_per_minute": 1500})
    schema = {"type": "object", "properties": {f"field_number_{i}": {"type": "string"} for i in range(300)}}
    request = call()
    request.chat.json_schema = schema
    with pytest.raises(ApiError) as caught:
        limited.complete(request)
    assert (caught.value.status, caught.value.code) == (413, "input_too_large") and not openai.requests
    assert limited.complete(call()).text == REPLY


def test_a_prompt_refused_by_a_content_filter_is_a_clear_error_never_sent_to_another_model(app, servers):
    openai, claude = servers
    openai.fail_next(1, Fault.content_filtered())
    with pytest.raises(ApiError) as caught:
        dispatcher(app).complete(call())
    assert (caught.value.status, caught.value.code) == (422, "content_filtered")
    assert "not sent to another model" in caught.value.message and "filtered due to" not in caught.value.message
    assert caught.value.details["attempts"] == [{"model": CHEAP, "error": "content_filter", "status": 400}]
    assert not claude.requests
    run = runs()[0]
    assert (run.outcome, run.error_code, run.output_tokens) == ("failed", "content_filtered", 0)
    assert budget_left_clean(app) == 0


def test_an_answer_the_filter_stops_midway_ends_interrupted_saying_why_and_is_metered(app, servers):
    openai, claude = servers
    openai.script(fault=Fault.finish_with("content_filter", 3))
    events = []
    with pytest.raises(ApiError) as caught:
        for event in dispatcher(app).stream(call()):
            events.append(event)
    assert (caught.value.code, caught.value.details["reason"]) == ("stream_interrupted", "content_filter")
    assert "content filter" in caught.value.message
    assert [kind for kind, _ in events] == ["meta", "delta", "delta", "delta"]  # never a `done` for a cut answer
    assert "".join(text for kind, text in events if kind == "delta") == "The quick brown "
    assert not claude.requests
    run = runs()[0]
    assert (run.outcome, run.error_code, run.input_tokens, run.output_tokens) == (
        "interrupted",
        "stream_interrupted",
        5,
        3,
    )
    assert budget_left_clean(app) == Decimal(str(run.cost_usd)) > 0


def test_a_completion_the_filter_cut_is_not_an_answer_but_is_paid_for(app, servers):
    openai, claude = servers
    openai.script(fault=Fault.finish_with("content_filter", 3))
    with pytest.raises(ApiError) as caught:
        dispatcher(app).complete(call())
    assert caught.value.code == "content_filtered" and not claude.requests
    run = runs()[0]
    assert (run.outcome, run.error_code, run.model, run.output_tokens) == ("failed", "content_filtered", "gpt-test", 3)
    assert budget_left_clean(app) == Decimal(str(run.cost_usd)) > 0
