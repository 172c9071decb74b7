"""SSE responses: event format, headers, errors, keepalives, the open-streams gauge, and the diagnostics switch."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from flask import Flask
from prometheus_client import REGISTRY

import backend.api.diagnostics  # noqa: F401 - registers the diagnostics counter read below
from backend.streaming import format_event, sse_response


def parse_sse(body: str) -> list[tuple[str, object]]:
    """A small spec-following SSE parser: (event, JSON data) per dispatched event; comments ignored."""
    events = []
    name, data_lines = "message", []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if data_lines:
                events.append((name, json.loads("\n".join(data_lines))))
            name, data_lines = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data_lines.append(value)
    return events


@pytest.mark.parametrize(
    "data",
    [
        {"text": "two\nlines"},
        {"text": "carriage\rreturn and \r\n both"},
        {"text": "unicode: é ✓ \u2028 separator"},
        ["a", 1, None, {"nested": "x\n\ny"}],
        "plain string",
    ],
)
def test_events_round_trip_through_a_spec_parser(data):
    assert parse_sse(format_event("delta", data).decode()) == [("delta", data)]


@pytest.mark.parametrize("name", ["two words", "line\nbreak", "", "x" * 65])
def test_event_names_that_would_break_the_framing_are_refused(name):
    with pytest.raises(ValueError):
        format_event(name, {})


@pytest.fixture
def diagnostics_client(app_config):
    """A test client of an app with the diagnostics endpoint enabled."""
    from backend import create_app

    return create_app({**app_config, "ENABLE_DIAGNOSTICS": True}).test_client()


def ended(outcome: str) -> float:
    """How many diagnostic streams have ended this way in this process."""
    return REGISTRY.get_sample_value("switchboard_diagnostics_streams_ended_total", {"outcome": outcome}) or 0.0


def streams_open() -> float:
    """The STREAMS_OPEN gauge of this process."""
    return REGISTRY.get_sample_value("switchboard_streams_open")


def test_diagnostics_are_off_by_default(client):
    assert client.get("/api/_diagnostics/stream?tokens=1").status_code == 404


def test_diagnostic_stream_sends_tokens_then_done_with_streaming_headers(diagnostics_client):
    response = diagnostics_client.get("/api/_diagnostics/stream?tokens=5&interval_ms=1")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "no-cache" in response.headers["Cache-Control"]
    events = parse_sse(response.get_data(as_text=True))
    assert [name for name, _ in events] == ["token"] * 5 + ["done"]
    assert [data["index"] for _, data in events[:-1]] == [0, 1, 2, 3, 4]
    assert streams_open() == 0


def test_a_failing_source_ends_the_stream_with_an_error_event(diagnostics_client):
    body = diagnostics_client.get("/api/_diagnostics/stream?tokens=5&interval_ms=0&fail_at=2").get_data(as_text=True)
    events = parse_sse(body)
    assert [name for name, _ in events] == ["token", "token", "error"]
    assert events[-1][1] == {"code": "internal_error", "message": "Something went wrong on our side."}
    assert "diagnostic failure" not in body  # the exception text stays in the logs


def test_bad_arguments_are_answered_in_the_error_shape(diagnostics_client):
    response = diagnostics_client.get("/api/_diagnostics/stream?tokens=-1")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_closing_the_response_mid_stream_cancels_the_generator(diagnostics_client):
    cancelled_before = ended("cancelled")
    response = diagnostics_client.get("/api/_diagnostics/stream?tokens=10000&interval_ms=5", buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b": stream open")
    assert b"event: token" in next(chunks)
    assert streams_open() == 1
    response.close()  # what a WSGI server does when the client has gone
    for _ in range(100):
        if ended("cancelled") == cancelled_before + 1:
            break
        threading.Event().wait(0.05)
    assert ended("cancelled") == cancelled_before + 1
    assert streams_open() == 0


def test_keepalive_comments_fill_silences(app_config):
    app = Flask(__name__)

    async def slow_events():
        await asyncio.sleep(0.4)
        yield "delta", {"text": "late"}

    @app.get("/slow")
    def slow():
        return sse_response(slow_events, keepalive_seconds=0.05)

    body = app.test_client().get("/slow").get_data(as_text=True)
    assert body.count(": keepalive") >= 2
    assert parse_sse(body) == [("delta", {"text": "late"})]


def test_a_malformed_event_ends_the_stream_with_an_error_and_cancels_the_source():
    app = Flask(__name__)
    finished = threading.Event()

    async def malformed():
        try:
            yield "delta", {"text": "fine"}
            yield "not an event name", {}
            yield "delta", {"text": "never sent"}
        finally:
            finished.set()

    @app.get("/malformed")
    def malformed_view():
        return sse_response(malformed)

    events = parse_sse(app.test_client().get("/malformed").get_data(as_text=True))
    assert [name for name, _ in events] == ["delta", "error"]
    assert finished.wait(5)
    assert streams_open() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"text": 'Grüße, 東京 — \u2028 "quoted" \\ back\nslash'},
        {"index": 3, "sent_at_us": 1764350000123456, "ok": True, "none": None, "ratio": 0.1, "big": 1e300},
        {"nested": [{"a": [1, 2, {"b": "c"}]}, (4, 5)], 7: "int key"},
        [],
        "plain",
    ],
)
def test_encode_json_matches_json_dumps(data):
    from backend.streaming import encode_json

    assert encode_json(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def test_a_refusal_after_the_head_is_an_error_event_with_its_code_and_no_trace_in_the_log(caplog):
    """An ApiError from the source (a job purged while its events stream) keeps its code and message; only an
    unexpected failure is internal_error with the detail in the log."""
    from backend.errors import ApiError

    app = Flask(__name__)

    async def purged():
        yield "progress", {"progress": 0.5}
        raise ApiError(404, "not_found", "No such job.")

    @app.get("/purged")
    def purged_view():
        return sse_response(purged)

    events = parse_sse(app.test_client().get("/purged").get_data(as_text=True))
    assert events == [("progress", {"progress": 0.5}), ("error", {"code": "not_found", "message": "No such job."})]
    assert not [record for record in caplog.records if record.exc_info]
    assert streams_open() == 0
