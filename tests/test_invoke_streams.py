"""A skill's SSE stream as the body writer sends it: the open-streams gauge however the stream ends, and keepalives
that follow what the client received (text held back by the sanitiser is nothing received)."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from backend import create_app
from tests.auth_fixtures import TENANT_A, bearer, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.fakes import Fault
from tests.fakes.harness import write_two_providers
from tests.test_invoke import SECRET_TEXT, providers_config, servers, sse_events, user  # noqa: F401

# Held back whole by the sanitiser until the comment closes (then removed): the model talks, the client gets nothing.
HELD_REPLY = "<!-- " + " ".join(f"note{n}" for n in range(6)) + " --> The answer."


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The loopback-Entra configuration plus a providers file naming both fakes."""
    return providers_config(app_config, entra, servers, tmp_path, monkeypatch)


def streams_open() -> float:
    """The open-streams gauge of this process."""
    return REGISTRY.get_sample_value("switchboard_streams_open")


def open_stream(client, headers):
    """A streamed summarize run whose body is read chunk by chunk, as the WSGI server reads it."""
    payload = {"input": {"text": SECRET_TEXT}}
    headers = {**headers, "Accept": "text/event-stream"}
    return client.post("/api/skills/summarize/invoke", json=payload, headers=headers, buffered=False)


@pytest.mark.parametrize("ending", ["done", "error", "client_left"])
def test_the_open_streams_gauge_counts_a_skill_stream_until_it_ends(client, user, servers, ending):  # noqa: F811
    if ending == "error":
        servers[0].script(fault=Fault.cut_after(12))  # stream_interrupted after text: an `error` event on the 200
    before = streams_open()
    response = open_stream(client, user)
    body = iter(response.response)
    assert next(body).startswith(b"event: meta")
    assert streams_open() == before + 1
    if ending == "client_left":
        assert b"event: delta" in next(body)
        response.close()  # what the WSGI server does when the client has gone
    else:
        events = sse_events(b"".join(body))
        assert events[-1][0] == ending
    assert streams_open() == before


def test_keepalives_follow_the_last_write_while_the_model_talks_but_nothing_is_shown(app_config, user, servers):  # noqa: F811
    """A token every 0.4 s, all held back: the client still gets something every keepalive period (0.5 s), counted
    from what it last received, not from the model's last chunk (which put up to two periods between writes)."""
    servers[0].script(reply=HELD_REPLY, fault=Fault.slow(0.4))
    client = create_app({**app_config, "STREAM_KEEPALIVE_SECONDS": 0.5}).test_client()
    response = open_stream(client, user)
    assert response.status_code == 200
    written: list[tuple[float, bytes]] = [(time.monotonic(), chunk) for chunk in response.response]
    body = b"".join(chunk for _, chunk in written)
    events = sse_events(body)
    assert [name for name, _ in events] == ["meta", "delta", "done"] and events[-1][1]["output"] == "The answer."
    assert body.count(b": keepalive") >= 4
    gaps = [later - earlier for (earlier, _), (later, _) in zip(written, written[1:], strict=False)]
    assert max(gaps) < 0.68, gaps


def test_every_model_failing_after_a_keepalive_is_an_error_event_on_the_200(app_config, user, servers, tmp_path):  # noqa: F811
    """Once a keepalive went out the head is sent: all_models_failed arrives as the stream's `error` event."""
    openai, claude = servers
    providers = write_two_providers(tmp_path / "quick.yaml", openai, claude, cheap_output=1024, first_token=0.4)
    config = {**app_config, "PROVIDERS_FILE": str(providers), "STREAM_KEEPALIVE_SECONDS": 0.1}
    openai.script(fault=Fault.stall(2))
    claude.script(fault=Fault.stall(2))
    response = open_stream(create_app(config).test_client(), user)
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b": keepalive\n\n")
    events = sse_events(body)
    assert [name for name, _ in events] == ["error"]
    assert events[0][1]["code"] == "all_models_failed" and SECRET_TEXT not in body.decode()
    attempts = events[0][1]["details"]["attempts"]  # what the HTTP error would have said, attempt by attempt
    assert attempts and attempts[0]["error"] == "first_token_timeout"


def test_a_content_filter_after_text_ends_the_stream_with_its_reason(client, user, servers):  # noqa: F811
    """docs/api-additions.md: stream_interrupted's details.reason says the provider's filter cut the answer."""
    servers[0].script(fault=Fault.finish_with("content_filter", 30))  # after the first sentence
    events = sse_events(open_stream(client, user).get_data())
    assert [name for name, _ in events][0] == "meta" and events[-1][0] == "error"
    assert "delta" in [name for name, _ in events]
    error = events[-1][1]
    assert (error["code"], error["details"]["reason"]) == ("stream_interrupted", "content_filter")
