"""Answers that are not what the API promises, through the fallback loop: a web page where JSON was expected, a
server that aborts the answer, a reason to stop nobody knows. Same servers and app as tests/test_dispatch.py."""

from __future__ import annotations

import pytest

from backend.errors import ApiError
from backend.routing.failures import StreamInterrupted
from tests.fakes import Fault
from tests.test_dispatch import CHEAP, CLAUDE, REPLY, app, call, dispatcher, runs, servers  # noqa: F401


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_a_web_page_where_the_api_should_be_falls_back_like_a_bad_gateway(app, servers, streamed):
    openai, _ = servers
    openai.fail_next(1, Fault.html_page())
    if streamed:
        events = list(dispatcher(app).stream(call()))
        result = events[-1][1]
        assert events[0][1]["model"]["provider"] == "claude"
    else:
        result = dispatcher(app).complete(call())
    assert result.model.ref == CLAUDE and result.text == REPLY
    assert result.routing["attempts"] == [{"model": CHEAP, "error": "server", "status": 200}]


def test_a_server_abort_before_any_text_falls_back_to_the_next_model(app, servers):
    openai, _ = servers
    openai.fail_next(1, Fault.finish_with("abort", 0))
    result = dispatcher(app).complete(call())
    assert result.model.ref == CLAUDE and result.text == REPLY
    assert result.routing["attempts"] == [{"model": CHEAP, "error": "server", "status": None}]


def test_a_server_abort_after_text_ends_the_stream_as_interrupted(app, servers):
    openai, _ = servers
    openai.fail_next(1, Fault.finish_with("abort", 3))
    stream = dispatcher(app).stream(call())
    deltas = []
    with pytest.raises(StreamInterrupted):
        for kind, payload in stream:
            if kind == "delta":
                deltas.append(payload)
    assert "".join(deltas) == "The quick brown "
    run = runs()[0]
    assert (run.outcome, run.error_code, run.model) == ("interrupted", "stream_interrupted", "gpt-test")


@pytest.mark.parametrize(
    ("fault", "streamed"),
    [
        (Fault.finish_with("mystery", 0), False),
        (Fault.finish_with("mystery", 0), True),
        (Fault.truncated_json(), False),
    ],
    ids=["unknown-reason-complete", "unknown-reason-stream", "truncated-json-complete"],
)
def test_an_answer_that_cannot_be_used_is_a_bad_answer_never_resent(app, servers, fault, streamed):
    openai, claude = servers
    openai.fail_next(1, fault)
    with pytest.raises(ApiError) as caught:
        list(dispatcher(app).stream(call())) if streamed else dispatcher(app).complete(call())
    assert (caught.value.status, caught.value.code) == (502, "provider_bad_answer")
    assert caught.value.message == "The model provider's answer could not be used."
    assert caught.value.details["attempts"] == [{"model": CHEAP, "error": "protocol", "status": None}]
    assert claude.requests == []
