"""Server-sent events: the one body writer every SSE response goes through (backend/api/skills.py, jobs, diagnostics).

Its source is an async generator (through the bridge's pump) or a sync iterator (a skill run), yielding
`(event_name, data)` pairs, data sent as JSON, and SILENCE whenever nothing was written for the keepalive period: the
writer notes each write on a `Silence`, and whatever waits for the source (the bridge) reports a silence against it,
so a keepalive comment goes out exactly when the client got nothing for that long. When the client goes away the WSGI
server fails to write, closes the body iterator, and the writer closes the source, so the generators' finally blocks
run (for a provider call: the HTTP request is aborted). A silent client is only noticed at the next write, which is
why keepalive comments are sent during silences.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from flask import Response, stream_with_context

from backend import metrics
from backend.asyncbridge import SILENCE, Silence, iterate
from backend.errors import ApiError

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-store",
    "X-Accel-Buffering": "no",  # nginx and similar proxies would otherwise hold the events back
}
OPENING_COMMENT = b": stream open\n\n"  # sends the head at once, so the client knows the request was accepted
KEEPALIVE_COMMENT = b": keepalive\n\n"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Built once: json.dumps with options builds an encoder per call, and JSONEncoder.encode builds its C encoder per
# call (4.2 us against 1.8 us per event on the development machine). Circular-reference checks are off: events are
# plain dicts built by this code.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_C_ENCODER = json.encoder.c_make_encoder
_ENCODE_C = _C_ENCODER and _C_ENCODER(
    None, _JSON.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
)


def encode_json(data: Any) -> str:
    """Compact JSON text, UTF-8 characters kept as they are (the C encoder when this Python has it)."""
    return "".join(_ENCODE_C(data, 0)) if _ENCODE_C else _JSON.encode(data)


STREAM_FAILED = {"code": "internal_error", "message": "Something went wrong on our side."}
log = logging.getLogger(__name__)


def format_event(event: str, data: Any) -> bytes:
    """One SSE event: `event:` line, one `data:` line per line of the JSON text, blank line."""
    if not _EVENT_NAME.match(event):
        raise ValueError("an SSE event name is a short word without spaces or line breaks")
    text = encode_json(data)
    if "\n" in text or "\r" in text:  # JSON escapes line breaks inside strings; this keeps the guarantee regardless
        text = "\ndata: ".join(_LINE_BREAK.split(text))
    return f"event: {event}\ndata: {text}\n\n".encode()


def sse_body(
    open_events: Callable[[], Iterator[Any]], silence: Silence | None, opening: bytes = b""
) -> Iterator[bytes]:
    """The body of every SSE response: the opening bytes, then each `(event, data)` as it comes and a keepalive
    comment for each SILENCE, noting every write on `silence` (so whatever waits for the source reports a silence
    only when the client got nothing for that long); a failure ends it with one `error` event. Counts open streams,
    and closes the source however the body ends (the client gone too: the WSGI server closes the body)."""
    metrics.STREAMS_OPEN.inc()
    events = None
    try:
        events = open_events()
        if opening:
            yield opening
        while True:
            try:
                item = next(events)
                chunk = KEEPALIVE_COMMENT if item is SILENCE else format_event(*item)
            except StopIteration:
                return
            except ApiError as failure:  # the head is sent already: the error the status would have carried
                yield format_event("error", failure.to_dict()["error"])  # its details too (attempts, reason)
                return
            except Exception:  # noqa: BLE001 - the head is sent already: end with an `error` event, log the detail
                log.exception("stream: the event source failed")
                yield format_event("error", STREAM_FAILED)
                return
            if silence is not None:
                silence.note()
            yield chunk
    finally:
        # GeneratorExit here means the server closed us (client gone or shutdown): cancel the producer too.
        close = getattr(events, "close", None)
        if close is not None:
            close()
        metrics.STREAMS_OPEN.dec()


def _event_stream(body: Iterator[bytes], status: int = 200) -> Response:
    """A streaming text/event-stream response with this body."""
    response = Response(stream_with_context(body), status=status, mimetype="text/event-stream", headers=SSE_HEADERS)
    # Never buffer or compress the whole body: each event must leave as soon as it is produced.
    response.direct_passthrough = True
    return response


def sse_response(
    agen_factory: Callable[[], AsyncIterator[tuple[str, Any]]],
    *,
    keepalive_seconds: float | None = 15.0,
    max_buffer: int = 64,
    status: int = 200,
) -> Response:
    """A text/event-stream response fed by the async generator that agen_factory returns; its head leaves at once."""
    silence = Silence(keepalive_seconds) if keepalive_seconds is not None else None
    body = sse_body(
        lambda: iterate(agen_factory, max_buffer=max_buffer, silence_after=silence), silence, OPENING_COMMENT
    )
    return _event_stream(body, status)


def sse_response_after_first(events: Iterator[Any], silence: Silence | None) -> Response:
    """A text/event-stream response fed by a sync iterator of `(event, data)` and SILENCE that notes silences against
    `silence` (backend/invocation.invoke_streaming). Its first item is taken before answering, so a refusal raised
    before it (rate limit, budget, no model) keeps its HTTP status; a SILENCE first makes the head and a keepalive
    go out, and a failure after that is an `error` event."""
    first = next(events)
    return _event_stream(sse_body(lambda: _first_then_rest(first, events), silence))


def _first_then_rest(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    """`first`, then the items of `rest`; closing this once started closes `rest`, even while `first` is out."""
    try:
        yield first
        yield from rest
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()
