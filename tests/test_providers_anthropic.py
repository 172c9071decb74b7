"""The anthropic provider through SK's AnthropicChatCompletion against the fake Anthropic Messages server."""

from __future__ import annotations

import time

import pytest

from backend.providers.base import ProviderError, Timeouts
from tests.fakes import FakeAnthropic, Fault, closed_port_url
from tests.fakes.harness import TEST_KEY, chat, collect, complete_or_error, make_provider, run

REPLY = "The quick brown fox jumps over the lazy dog"


pytestmark = pytest.mark.usefixtures("sdks_loaded")  # timing tests: no first imports in the window


@pytest.fixture
def server():
    """A fake Anthropic server for one test."""
    with FakeAnthropic(default_reply=REPLY) as fake:
        yield fake


def provider_on(server: FakeAnthropic, **options):
    """An anthropic provider on the fake."""
    return make_provider("anthropic", server.base_url, model_id="claude-test", **options)


def test_complete_returns_text_usage_and_sends_the_request(server):
    provider, model = provider_on(server)
    completion = run(provider, lambda: provider.complete(model, chat(max_output_tokens=64, temperature=0.2)))
    assert completion.text == REPLY
    assert completion.finish_reason == "stop"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (5, 9)
    [request] = server.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == TEST_KEY
    assert "anthropic-version" in request.headers
    body = request.body
    assert (body["model"], body["max_tokens"], body["temperature"]) == ("claude-test", 64, 0.2)
    assert body["system"] == "be brief"  # the system role travels in Anthropic's own field
    assert body["messages"] == [{"role": "user", "content": "hello there world"}]
    assert "extra_body" not in body


def test_stream_takes_the_maximum_of_repeated_usage_never_the_sum(server):
    provider, model = provider_on(server)
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is None
    assert result.text == REPLY and len(result.texts) == 9
    # input_tokens arrives on message_start and again on message_delta; output_tokens 1 then 9: max, not sum
    assert (result.usage.input_tokens, result.usage.output_tokens) == (5, 9)
    assert not result.usage.estimated
    assert server.last_request.body["stream"] is True


def test_max_tokens_stop_is_a_length_finish(server):
    provider, model = provider_on(server)
    completion = run(provider, lambda: provider.complete(model, chat(max_output_tokens=2)))
    assert (completion.text, completion.finish_reason, completion.usage.output_tokens) == ("The quick ", "length", 2)


FAULTS = [
    (Fault.server_error(500), "server", 500, True),
    (Fault.overloaded(), "overloaded", 529, True),
    (Fault.rate_limited("12"), "rate_limited", 429, True),
    (Fault.http_status(401), "auth", 401, False),
    (Fault.http_status(403), "auth", 403, False),
    (Fault.http_status(400), "client", 400, False),
    (Fault.http_status(404), "client", 404, False),
    (Fault.http_status(422), "client", 422, False),
]


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(("fault", "kind_of_error", "status", "retryable"), FAULTS, ids=lambda v: str(v))
def test_status_faults_map_to_kinds_without_sdk_retries(fault, kind_of_error, status, retryable, streamed, server):
    provider, model = provider_on(server)
    server.fail_next(1, fault)
    if streamed:
        result = run(provider, lambda: collect(provider, model, chat()))
        assert result.texts == [] and result.usage is None
        error = result.error
    else:
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert isinstance(error, ProviderError)
    assert (error.kind, error.status, error.retryable) == (kind_of_error, status, retryable)
    assert len(server.requests) == 1  # max_retries=0
    assert TEST_KEY not in str(error) and "hello" not in str(error)
    if status == 429:
        assert error.retry_after == 12.0
    if kind_of_error == "auth":
        assert "configuration" in str(error)


def test_wrong_key_is_an_auth_error():
    with FakeAnthropic(api_key="the-right-key") as server:
        provider, model = provider_on(server)
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert error.kind == "auth" and error.status == 401


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_connection_refused_is_a_connect_error(streamed):
    provider, model = make_provider("anthropic", closed_port_url())
    if streamed:
        error = run(provider, lambda: collect(provider, model, chat())).error
    else:
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert error.kind == "connect" and error.retryable


def test_stall_before_first_token_fires_the_first_token_timeout(server):
    provider, model = provider_on(server, timeouts=Timeouts(connect=1, first_token=0.5, total=10))
    server.script(fault=Fault.stall(3.0))
    started = time.monotonic()
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error.kind == "first_token_timeout"
    assert time.monotonic() - started < 2.5
    assert result.texts == []


def test_empty_text_deltas_do_not_hold_off_the_first_token_timeout(server):
    """The first-token timeout runs from the start of the call to the first text, however many empty deltas come."""
    provider, model = provider_on(server, timeouts=Timeouts(connect=1, first_token=0.5, total=10))
    server.script(fault=Fault.textless_chunks(3.0))
    started = time.monotonic()
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is not None and result.error.kind == "first_token_timeout"
    assert time.monotonic() - started < 2.5
    assert result.texts == []


def test_empty_text_deltas_within_the_first_token_timeout_are_harmless(server):
    provider, model = provider_on(server, timeouts=Timeouts(connect=1, first_token=1.5, total=10))
    server.script(fault=Fault.textless_chunks(0.3))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is None and result.text == REPLY


def test_non_streamed_call_past_the_total_timeout_times_out(server):
    provider, model = provider_on(server, timeouts=Timeouts(connect=1, first_token=0.2, total=0.6))
    server.script(fault=Fault.stall(3.0))
    error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert error.kind == "timeout"


def test_slow_tokens_past_the_total_timeout_keep_the_partial_text(server):
    provider, model = provider_on(server, timeouts=Timeouts(connect=1, first_token=2, total=1.5))
    server.script(fault=Fault.slow(0.3))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error.kind == "timeout"
    assert 0 < len(result.texts) < 9 and REPLY.startswith(result.text)


def test_cut_stream_yields_the_partial_text_then_raises_with_usage(server):
    provider, model = provider_on(server)
    server.script(fault=Fault.cut_after(3))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The ", "quick ", "brown "]
    assert result.error.kind == "server"
    usage = result.error.usage
    # input_tokens is the provider's (message_start); its output count (1) lags the text, so the estimate wins
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (5, 4, True)


def test_malformed_event_is_a_protocol_error_after_the_good_text(server):
    provider, model = provider_on(server)
    server.script(fault=Fault.malformed_after(1))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The "]
    assert result.error.kind == "protocol" and not result.error.retryable


def test_json_schema_goes_in_output_config_when_supported(server):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    provider, model = provider_on(server, capabilities=frozenset({"streaming", "json_schema"}))
    run(provider, lambda: provider.complete(model, chat(json_schema=schema)))
    assert server.last_request.body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    plain, model = provider_on(server)
    run(plain, lambda: plain.complete(model, chat(json_schema=schema)))
    assert "output_config" not in server.last_request.body


def test_overloaded_error_event_mid_stream_keeps_the_text_and_maps_to_overloaded(server):
    provider, model = provider_on(server)
    server.script(fault=Fault.error_event(2, status=529))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The ", "quick "]
    assert (result.error.kind, result.error.status) == ("overloaded", 529)
    assert result.error.usage.input_tokens == 5 and result.error.usage.output_tokens >= 2


def test_a_missing_key_is_refused_rather_than_read_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-platform-key-from-env")
    provider, model = provider_on(server, api_key=None)
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error.kind == "auth" and server.requests == []


def test_a_body_ending_without_message_stop_is_an_interrupted_stream(server):
    provider, model = provider_on(server)
    server.script(fault=Fault.end_early(2))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The ", "quick "]
    assert result.error.kind == "server"
    assert result.error.usage.input_tokens == 5 and result.error.usage.estimated


def test_a_redirect_is_never_followed_so_the_x_api_key_stays_on_the_allowed_host(server):
    from tests.test_providers_openai import RedirectingServer

    with RedirectingServer(server.url) as allowed:
        provider, model = make_provider("anthropic", allowed.url, model_id="claude-test")
        error = run(provider, lambda: complete_or_error(provider, model, chat("confidential text")))
    assert isinstance(error, ProviderError) and (error.kind, error.status) == ("client", 307)
    assert len(allowed.requests) == 1 and server.requests == []


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_an_answer_ended_by_a_stop_sequence_is_a_whole_answer_with_its_usage(streamed, server):
    # SK 1.45 maps only end_turn/max_tokens/tool_use: a KeyError here was a retryable "server" failure
    provider, model = provider_on(server)
    server.script(fault=Fault.finish_with("stop_sequence", 3))
    if streamed:
        result = run(provider, lambda: collect(provider, model, chat()))
        text, usage, error = result.text, result.usage, result.error
    else:
        completion = run(provider, lambda: provider.complete(model, chat()))
        text, usage, error = completion.text, completion.usage, None
    assert error is None and text == "The quick brown "
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (5, 3, False)  # message_delta's count


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_a_refusal_is_a_content_filter_error_never_retried_and_metered(streamed, server):
    provider, model = provider_on(server)
    server.script(fault=Fault.finish_with("refusal", 3))
    if streamed:
        result = run(provider, lambda: collect(provider, model, chat()))
        assert result.texts == ["The ", "quick ", "brown "] and result.usage is None  # no `done` with a cut answer
        error = result.error
    else:
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert (error.kind, error.retryable) == ("content_filter", False)
    assert (error.usage.input_tokens, error.usage.output_tokens) == (5, 3)
    assert "quick" not in str(error) and "hello" not in str(error)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_a_paused_turn_is_refused_as_an_answer_we_cannot_use(streamed, server):
    provider, model = provider_on(server)
    server.script(fault=Fault.finish_with("pause_turn"))
    if streamed:
        error = run(provider, lambda: collect(provider, model, chat())).error
    else:
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert (error.kind, error.retryable) == ("protocol", False) and "pause_turn" in str(error)


def test_an_error_event_before_any_text_is_retryable_and_meters_nothing(server):
    provider, model = provider_on(server)
    server.script(fault=Fault.error_event(0, status=529))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == [] and result.usage is None
    assert (result.error.kind, result.error.status, result.error.retryable) == ("overloaded", 529, True)
    assert result.error.usage is None


def test_a_529_carries_its_retry_after_and_the_api_version_header_is_sent(server):
    provider, model = provider_on(server)
    server.fail_next(1, Fault("status", status=529, retry_after="4"))
    error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert (error.kind, error.retry_after) == ("overloaded", 4.0)
    assert server.last_request.headers["anthropic-version"] == "2023-06-01"


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_a_200_html_page_is_a_retryable_failure_that_says_so_and_quotes_nothing(streamed, server):
    provider, model = provider_on(server)
    server.script(fault=Fault.html_page())
    if streamed:
        result = run(provider, lambda: collect(provider, model, chat()))
        assert result.texts == []
        error = result.error
    else:
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert (error.kind, error.status, error.retryable, error.usage) == ("server", 200, True, None)
    assert "non-JSON body (text/html)" in str(error) and "sign in" not in str(error).lower()
