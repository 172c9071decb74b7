"""What real OpenAI-wire servers send that a well-behaved fake would not: content filters (OpenAI's finish_reason,
Azure's 400 and its prompt filter chunk), in-stream error objects, servers without usage or without a finish reason,
rate-limit headers, and a proxy's HTML page."""

from __future__ import annotations

import pytest

from tests.fakes import FakeOpenAI, Fault
from tests.fakes.harness import chat, collect, complete_or_error, make_provider, run

KINDS = ["openai", "azure_openai", "selfhosted"]
REPLY = "The quick brown fox jumps over the lazy dog"

pytestmark = pytest.mark.usefixtures("sdks_loaded")


@pytest.fixture
def server():
    """A fake OpenAI server for one test."""
    with FakeOpenAI(default_reply=REPLY) as fake:
        yield fake


def provider_on(kind: str, server: FakeOpenAI):
    """A provider of `kind` on the fake: Azure takes the resource root, the others the /v1 base URL."""
    base_url = server.url if kind == "azure_openai" else server.base_url
    return make_provider(kind, base_url, extra={"api_version": "2024-10-21"})


def call(provider, model, streamed: bool):
    """The error a call ended with (complete or stream), and the stream's texts."""
    if streamed:
        result = run(provider, lambda: collect(provider, model, chat()))
        return result.error, result.texts, result.usage
    answer = run(provider, lambda: complete_or_error(provider, model, chat()))
    return (answer, [], None) if isinstance(answer, Exception) else (None, [answer.text], answer.usage)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("kind", ["openai", "azure_openai"])
def test_an_answer_stopped_by_the_content_filter_fails_instead_of_passing_as_complete(kind, streamed, server):
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.finish_with("content_filter", 3))
    error, texts, usage = call(provider, model, streamed)
    assert (error.kind, error.retryable) == ("content_filter", False) and usage is None
    assert texts == (["The ", "quick ", "brown "] if streamed else [])
    assert (error.usage.input_tokens, error.usage.output_tokens, error.usage.estimated) == (5, 3, False)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_azures_400_content_filter_is_a_clear_error_that_quotes_nothing(streamed, server):
    provider, model = provider_on("azure_openai", server)
    server.script(fault=Fault.content_filtered())
    error, texts, _ = call(provider, model, streamed)
    assert (error.kind, error.status, error.retryable) == ("content_filter", 400, False)
    assert texts == [] and error.usage is None
    assert "filtered due to" not in str(error) and "hello" not in str(error)


def test_azures_prompt_filter_chunk_with_empty_choices_comes_first_and_changes_nothing(server):
    provider, model = provider_on("azure_openai", server)
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is None and result.text == REPLY and len(result.texts) == 9
    assert (result.usage.input_tokens, result.usage.output_tokens) == (5, 9)


@pytest.mark.parametrize(
    ("fault", "kind_of_error", "status"),
    [
        (Fault.error_event(0, status=400), "client", 400),
        (Fault.error_event(0, status=429), "rate_limited", 429),
        (Fault("error_event", status=400, code="content_filter"), "content_filter", None),
        (Fault.error_event(0, status=500), "server", 500),
    ],
    ids=["invalid_request", "rate_limit", "content_filter", "server_error"],
)
def test_an_error_object_before_any_text_maps_by_its_type_or_code(fault, kind_of_error, status, server):
    provider, model = provider_on("openai", server)
    server.script(fault=fault)
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == [] and (result.error.kind, result.error.status) == (kind_of_error, status)
    assert "fake in-stream error" not in str(result.error)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_a_server_that_never_reports_usage_gets_counted_by_us_and_marked_estimated(streamed):
    with FakeOpenAI(default_reply=REPLY, reports_usage=False) as server:
        provider, model = provider_on("selfhosted", server)
        error, texts, usage = call(provider, model, streamed)
    assert error is None and "".join(texts) == REPLY
    # ceil(characters / 4): "be brief" 2 + "hello there world" 5 in, 43 characters out
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (7, 11, True)


def test_a_null_finish_reason_then_the_usage_chunk_is_a_whole_answer(server):
    provider, model = provider_on("selfhosted", server)
    server.script(fault=Fault.finish_with(None))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is None and result.text == REPLY
    assert (result.usage.output_tokens, result.usage.estimated) == (9, False)


def test_a_null_finish_reason_without_usage_cannot_be_told_from_a_cut_and_is_interrupted():
    with FakeOpenAI(default_reply=REPLY, reports_usage=False) as server:
        provider, model = provider_on("selfhosted", server)
        server.script(fault=Fault.finish_with(None))
        result = run(provider, lambda: collect(provider, model, chat()))
    assert result.text == REPLY and result.error.kind == "server" and result.error.usage.estimated


def test_a_json_answer_with_a_null_finish_reason_and_no_usage_is_whole():
    with FakeOpenAI(default_reply=REPLY, reports_usage=False) as server:
        provider, model = provider_on("selfhosted", server)
        server.script(fault=Fault.finish_with(None))
        completion = run(provider, lambda: provider.complete(model, chat()))
    assert (completion.text, completion.finish_reason, completion.usage.estimated) == (REPLY, None, True)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_retry_after_ms_wins_over_retry_after(streamed, server):
    provider, model = provider_on("openai", server)
    server.script(
        fault=Fault.rate_limited_with(retry_after_ms="1500", retry_after="2", x_ratelimit_remaining_requests="0")
    )
    error, _, _ = call(provider, model, streamed)
    assert (error.kind, error.retry_after) == ("rate_limited", 1.5)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_200_html_page_is_a_retryable_failure_that_says_so_and_quotes_nothing(kind, streamed, server):
    # it read "failed (AttributeError)" (complete: the SDK handed the page's text to SK as the answer) or "stream
    # ended before the provider finished" (a stream of no events)
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.html_page())
    error, texts, _ = call(provider, model, streamed)
    assert texts == [] and error.retryable and error.usage is None
    assert (error.kind, error.status) == ("server", 200)
    assert "non-JSON body (text/html)" in str(error) and "base URL" in str(error)
    assert "sign in" not in str(error).lower()


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_aborts_the_answer_is_a_retryable_failure_naming_the_reason(kind, streamed, server):
    # vLLM ends a preempted or shut-down request with finish_reason "abort", then [DONE]: SK's FinishReason refused it
    # with a ValueError, read as "failed (ValueError)"
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.finish_with("abort", 3))
    error, texts, usage = call(provider, model, streamed)
    assert (error.kind, error.retryable, usage) == ("server", True, None)
    assert "aborted" in str(error) and "finish_reason abort" in str(error) and "quick" not in str(error)
    assert texts == (["The ", "quick ", "brown "] if streamed else [])
    if streamed:  # text reached the caller: what was generated is metered with the interrupted stream
        assert error.usage.output_tokens > 0 and error.usage.estimated


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_a_finish_reason_nobody_knows_is_refused_naming_it_within_bounds(streamed, server):
    provider, model = provider_on("selfhosted", server)
    server.script(fault=Fault.finish_with("recitation\n" + "x" * 200))
    error, texts, _ = call(provider, model, streamed)
    assert (error.kind, error.retryable) == ("protocol", False)
    assert "does not handle (finish_reason recitation?xxx" in str(error) and "x" * 40 not in str(error)
    assert "quick" not in str(error) and "hello" not in str(error)


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("reason", ["eos_token", "stop_sequence"])
def test_older_text_generation_inference_stop_reasons_are_whole_answers(reason, streamed, server):
    provider, model = provider_on("selfhosted", server)
    server.script(fault=Fault.finish_with(reason))
    error, texts, usage = call(provider, model, streamed)
    assert error is None and "".join(texts) == REPLY and usage.output_tokens == 9


@pytest.mark.parametrize("kind", KINDS)
def test_a_truncated_json_answer_is_a_malformed_response_that_quotes_nothing(kind, server):
    # a 200 application/json body that ends mid-object: the SDK's JSON parser fails on it (protocol, not retried)
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.truncated_json())
    error, _, _ = call(provider, model, streamed=False)
    assert (error.kind, error.status, error.retryable) == ("protocol", None, False)
    assert "malformed response" in str(error) and "chatcmpl" not in str(error)
