"""OpenAI-wire providers (openai, azure_openai, selfhosted) through SK's connectors against the fake OpenAI server."""

from __future__ import annotations

import time

import pytest

from backend.providers.base import Completion, ProviderError, Timeouts
from tests.fakes import FakeOpenAI, Fault, closed_port_url
from tests.fakes.common import FakeServer
from tests.fakes.harness import TEST_KEY, chat, collect, complete_or_error, make_provider, run

KINDS = ["openai", "azure_openai", "selfhosted"]
REPLY = "The quick brown fox jumps over the lazy dog"


pytestmark = pytest.mark.usefixtures("sdks_loaded")  # timing tests: no first imports in the window


@pytest.fixture
def server():
    """A fake OpenAI server for one test."""
    with FakeOpenAI(default_reply=REPLY) as fake:
        yield fake


def provider_on(kind: str, server: FakeOpenAI, **options):
    """A provider of `kind` on the fake: Azure takes the resource root, the others the /v1 base URL."""
    base_url = server.url if kind == "azure_openai" else server.base_url
    return make_provider(kind, base_url, extra={"api_version": "2024-10-21"}, **options)


def sent_key(kind: str, request) -> str | None:
    """The API key as it arrived: Azure's api-key header, else the Bearer token."""
    if kind == "azure_openai":
        return request.headers.get("api-key")
    return request.headers.get("authorization", "").removeprefix("Bearer ")


@pytest.mark.parametrize("kind", KINDS)
def test_complete_returns_text_usage_and_sends_the_request(kind, server):
    provider, model = provider_on(kind, server)
    completion = run(provider, lambda: provider.complete(model, chat(max_output_tokens=64, temperature=0.2)))
    assert completion.text == REPLY
    assert completion.finish_reason == "stop"
    # fake counts: 2 + 3 prompt words, 9 reply tokens; prompt/completion_tokens normalised to input/output
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (5, 9)
    assert not completion.usage.estimated
    [request] = server.requests
    assert sent_key(kind, request) == TEST_KEY
    # the messages travel as they are (through the SDK's extra_body, past its parameter transformation)
    assert request.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello there world"},
    ]
    assert "extra_body" not in request.body
    assert request.body["temperature"] == 0.2
    assert "stream" not in request.body or request.body["stream"] is False
    if kind == "azure_openai":
        assert request.path == "/openai/deployments/test-model/chat/completions"
        assert request.query["api-version"] == "2024-10-21"
        assert request.body["max_completion_tokens"] == 64
    else:
        assert request.path == "/v1/chat/completions"
        assert request.body["model"] == "test-model"
        field = "max_tokens" if kind == "selfhosted" else "max_completion_tokens"
        assert request.body[field] == 64


@pytest.mark.parametrize("kind", KINDS)
def test_stream_yields_text_then_usage_from_the_final_chunk(kind, server):
    provider, model = provider_on(kind, server)
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is None
    assert result.text == REPLY
    assert len(result.texts) == 9
    assert (result.usage.input_tokens, result.usage.output_tokens) == (5, 9)
    assert not result.usage.estimated
    assert server.last_request.body["stream"] is True
    assert server.last_request.body["stream_options"] == {"include_usage": True}
    assert [m["content"] for m in server.last_request.body["messages"]] == ["be brief", "hello there world"]


@pytest.mark.parametrize("kind", KINDS)
def test_finish_reason_length_when_max_tokens_cuts_the_reply(kind, server):
    provider, model = provider_on(kind, server)
    completion = run(provider, lambda: provider.complete(model, chat(max_output_tokens=3)))
    assert completion.text == "The quick brown "
    assert completion.finish_reason == "length"
    assert completion.usage.output_tokens == 3


FAULTS = [
    (Fault.server_error(500), "server", 500, True),
    (Fault.server_error(503), "server", 503, True),
    (Fault.rate_limited("7"), "rate_limited", 429, True),
    (Fault.http_status(401), "auth", 401, False),
    (Fault.http_status(403), "auth", 403, False),
    (Fault.http_status(400), "client", 400, False),
    (Fault.http_status(404), "client", 404, False),
    (Fault.http_status(422), "client", 422, False),
]


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(("fault", "kind_of_error", "status", "retryable"), FAULTS, ids=lambda v: str(v))
@pytest.mark.parametrize("kind", KINDS)
def test_status_faults_map_to_kinds_without_sdk_retries(
    kind, fault, kind_of_error, status, retryable, streamed, server
):
    provider, model = provider_on(kind, server)
    server.fail_next(1, fault)
    if streamed:
        result = run(provider, lambda: collect(provider, model, chat()))
        assert result.texts == [] and result.usage is None
        error = result.error
    else:
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert isinstance(error, ProviderError)
    assert (error.kind, error.status, error.retryable) == (kind_of_error, status, retryable)
    assert len(server.requests) == 1  # max_retries=0: the router, not the SDK, decides about retries
    assert TEST_KEY not in str(error) and "hello" not in str(error)
    if status == 429:
        assert error.retry_after == 7.0
    if kind_of_error == "auth":
        assert "configuration" in str(error)


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_key_is_an_auth_error(kind):
    with FakeOpenAI(api_key="the-right-key") as server:
        provider, model = provider_on(kind, server)
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert error.kind == "auth" and not error.retryable


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_connection_refused_is_a_connect_error(kind, streamed):
    base_url = closed_port_url() + ("" if kind == "azure_openai" else "/v1")
    provider, model = make_provider(kind, base_url)
    if streamed:
        error = run(provider, lambda: collect(provider, model, chat())).error
    else:
        error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert error.kind == "connect" and error.retryable


@pytest.mark.parametrize("kind", KINDS)
def test_stall_before_first_token_fires_the_first_token_timeout(kind, server):
    provider, model = provider_on(kind, server, timeouts=Timeouts(connect=1, first_token=0.5, total=10))
    server.script(fault=Fault.stall(3.0))
    started = time.monotonic()
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error.kind == "first_token_timeout" and result.error.retryable
    assert time.monotonic() - started < 2.5
    assert result.texts == [] and result.error.usage is None


@pytest.mark.parametrize("kind", KINDS)
def test_chunks_without_text_do_not_hold_off_the_first_token_timeout(kind, server):
    """The first-token timeout runs from the start of the call to the first text: a server sending reasoning-only
    chunks (each well within the between-chunk limit) must not keep a caller waiting until the total timeout."""
    provider, model = provider_on(kind, server, timeouts=Timeouts(connect=1, first_token=0.5, total=10))
    server.script(fault=Fault.textless_chunks(3.0))
    started = time.monotonic()
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is not None and result.error.kind == "first_token_timeout" and result.error.retryable
    assert time.monotonic() - started < 2.5
    assert result.texts == []


@pytest.mark.parametrize("kind", KINDS)
def test_non_streamed_call_past_the_total_timeout_times_out(kind, server):
    provider, model = provider_on(kind, server, timeouts=Timeouts(connect=1, first_token=0.2, total=0.6))
    server.script(fault=Fault.stall(3.0))
    started = time.monotonic()
    error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert error.kind == "timeout"
    assert 0.5 < time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("fault", "timeouts"),
    [
        (Fault.slow(0.05), Timeouts(connect=1, first_token=1, total=5)),  # slow tokens
        (Fault.textless_chunks(0.3), Timeouts(connect=1, first_token=1.5, total=10)),  # text-less chunks, then text
    ],
    ids=["slow_tokens", "textless_chunks"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_delays_within_the_limits_leave_the_answer_complete(kind, server, fault, timeouts):
    provider, model = provider_on(kind, server, timeouts=timeouts)
    server.script(fault=fault)
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error is None and result.text == REPLY


@pytest.mark.parametrize("kind", KINDS)
def test_slow_tokens_past_the_total_timeout_keep_the_partial_text(kind, server):
    provider, model = provider_on(kind, server, timeouts=Timeouts(connect=1, first_token=2, total=1.5))
    server.script(fault=Fault.slow(0.3))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.error.kind == "timeout"  # text had arrived: not a first-token timeout
    assert 0 < len(result.texts) < 9
    assert REPLY.startswith(result.text)
    assert result.error.usage.output_tokens >= 1 and result.error.usage.estimated


@pytest.mark.parametrize("kind", KINDS)
def test_cut_stream_yields_the_partial_text_then_raises_with_usage(kind, server):
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.cut_after(3))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The ", "quick ", "brown "]  # nothing duplicated, nothing dropped
    assert result.usage is None  # no final usage chunk: the usage travels on the error
    assert result.error.kind == "server" and result.error.retryable
    # no usage chunk arrived: output estimated from the 16 characters received (ceil(16 / 4)), input likewise
    assert (result.error.usage.output_tokens, result.error.usage.estimated) == (4, True)
    assert result.error.usage.input_tokens > 0


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_chunk_is_a_protocol_error_after_the_good_text(kind, server):
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.malformed_after(2))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The ", "quick "]
    assert result.error.kind == "protocol"
    assert result.error.usage.output_tokens == 3  # ceil(len("The quick ") / 4)


SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


@pytest.mark.parametrize("kind", KINDS)
def test_json_schema_is_sent_only_when_the_model_supports_it(kind, server):
    capable, model = provider_on(kind, server, capabilities=frozenset({"streaming", "json_schema"}))
    server.script(reply='{"title": "x"}')
    completion = run(capable, lambda: capable.complete(model, chat(json_schema=SCHEMA)))
    assert isinstance(completion, Completion) and completion.text == '{"title": "x"}'
    response_format = server.last_request.body["response_format"]
    assert response_format == {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}
    plain, model = provider_on(kind, server)
    run(plain, lambda: plain.complete(model, chat(json_schema=SCHEMA)))
    assert "response_format" not in server.last_request.body


def test_selfhosted_without_a_key_still_calls():
    with FakeOpenAI(default_reply="ok") as server:
        provider, model = make_provider("selfhosted", server.base_url, api_key=None)
        completion = run(provider, lambda: provider.complete(model, chat()))
    assert completion.text == "ok"


@pytest.mark.parametrize("kind", KINDS)
def test_error_object_mid_stream_is_a_server_error_after_the_text(kind, server):
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.error_event(2))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The ", "quick "]
    assert result.error.kind == "server" and result.error.usage.output_tokens == 3


@pytest.mark.parametrize("kind", ["openai", "azure_openai"])
def test_a_missing_key_is_refused_rather_than_read_from_the_environment(kind, server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-platform-key-from-env")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "sk-platform-key-from-env")
    provider, model = provider_on(kind, server, api_key=None)
    error = run(provider, lambda: complete_or_error(provider, model, chat()))
    assert error.kind == "auth" and "configuration" in str(error)
    assert server.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_consumer_leaving_early_closes_the_stream_and_the_provider_stays_usable(kind, server):
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.slow(0.05))

    async def leave_after_one_chunk_then_call_again():
        stream = provider.stream(model, chat())
        first = await anext(stream)
        await stream.aclose()  # what a client disconnect does to the pump
        return first, await provider.complete(model, chat())

    first, completion = run(provider, leave_after_one_chunk_then_call_again)
    assert first.text == "The " and completion.text == REPLY
    assert len(server.requests) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_ending_without_a_finish_is_an_interrupted_stream(kind, server):
    provider, model = provider_on(kind, server)
    server.script(fault=Fault.end_early(2))
    result = run(provider, lambda: collect(provider, model, chat()))
    assert result.texts == ["The ", "quick "]
    assert result.error.kind == "server" and "ended before" in str(result.error)
    assert result.error.usage.estimated


class RedirectingServer(FakeServer):
    """An endpoint on an allowed host that answers every call with a 307 to another server."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def handle(self, handler, request) -> None:
        """Send the call, body and all, elsewhere."""
        handler.send_json(307, {}, {"Location": self.target + handler.path})


@pytest.mark.parametrize("kind", KINDS)
def test_a_redirect_is_never_followed_so_neither_text_nor_key_leaves_the_allowed_host(kind, server):
    # A tenant's base_url is checked against SWITCHBOARD_ALLOWED_MODEL_HOSTS; a redirect from there must not carry
    # the prompt (307 resends the body) and the key (Azure's api-key header survives a cross-origin hop) elsewhere.
    with RedirectingServer(server.url) as allowed:
        base_url = allowed.url if kind == "azure_openai" else allowed.url + "/v1"
        provider, model = make_provider(kind, base_url, extra={"api_version": "2024-10-21"})
        error = run(provider, lambda: complete_or_error(provider, model, chat("confidential text")))
    assert isinstance(error, ProviderError) and (error.kind, error.status) == ("client", 307)
    assert len(allowed.requests) == 1 and server.requests == []
