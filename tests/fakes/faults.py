"""Faults the fake provider servers inject, and the token loop that applies them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.common import Handler


@dataclass(frozen=True)
class Fault:
    """Something going wrong with one request: an error status, a stall, a cut or malformed stream, slow tokens."""

    # status | stall | cut | end_early | malformed | error_event | slow | textless | finish | html | truncated
    kind: str
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0
    after_tokens: int = 0
    message: str | None = None  # the error body's message (a real provider's often quotes the prompt or the key)
    code: str | None = None  # the error body's code (Azure's "content_filter")
    headers: tuple[tuple[str, str], ...] = ()  # more response headers (retry-after-ms, x-ratelimit-*)
    reason: str | None = None  # kind "finish": the finish_reason / stop_reason the answer ends with (None: null)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """Answer with a 5xx status before any token."""
        return cls("status", status=status)

    @classmethod
    def rate_limited(cls, retry_after: str | None = "7") -> Fault:
        """Answer 429, with a Retry-After header unless retry_after is None."""
        return cls("status", status=429, retry_after=retry_after)

    @classmethod
    def overloaded(cls) -> Fault:
        """Answer Anthropic's 529 overloaded."""
        return cls("status", status=529)

    @classmethod
    def http_status(cls, status: int, message: str | None = None) -> Fault:
        """Answer any status, e.g. 400, 401, 403, 404, 422, optionally with this error message."""
        return cls("status", status=status, message=message)

    @classmethod
    def content_filtered(cls) -> Fault:
        """Azure's 400 for a prompt its content filter blocked (`code: content_filter`, the filter's verdicts)."""
        message = "The response was filtered due to the prompt triggering content management policy."
        return cls("status", status=400, code="content_filter", message=message)

    @classmethod
    def rate_limited_with(cls, **headers: str) -> Fault:
        """Answer 429 with exactly these headers (underscores become dashes: retry_after_ms -> retry-after-ms)."""
        return cls("status", status=429, headers=tuple((k.replace("_", "-"), v) for k, v in headers.items()))

    @classmethod
    def finish_with(cls, reason: str | None, tokens: int | None = None) -> Fault:
        """End the answer (after `tokens` tokens, default all) with this finish_reason / stop_reason; None sends null
        (a server that never says why it stopped)."""
        return cls("finish", reason=reason, after_tokens=-1 if tokens is None else tokens)

    @classmethod
    def html_page(cls) -> Fault:
        """Answer 200 with an HTML page instead of JSON or SSE, as a captive portal or a misrouted proxy does."""
        return cls("html")

    @classmethod
    def truncated_json(cls) -> Fault:
        """Answer 200 application/json with a body that ends mid-object (its content-length that of what was sent),
        as a proxy or a crashing server that closed the answer early does."""
        return cls("truncated")

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Wait this long before the first token (streaming: after the response headers; otherwise before them)."""
        return cls("stall", seconds=seconds)

    @classmethod
    def cut_after(cls, tokens: int) -> Fault:
        """Stream this many tokens, then drop the connection mid-body."""
        return cls("cut", after_tokens=tokens)

    @classmethod
    def end_early(cls, tokens: int) -> Fault:
        """Stream this many tokens, then end the body cleanly without the finish event (a proxy giving up)."""
        return cls("end_early", after_tokens=tokens)

    @classmethod
    def malformed_after(cls, tokens: int) -> Fault:
        """Stream this many tokens, then send an SSE event whose data is not JSON."""
        return cls("malformed", after_tokens=tokens)

    @classmethod
    def error_event(cls, tokens: int, status: int = 529, message: str | None = None) -> Fault:
        """Stream this many tokens, then an in-stream error event (Anthropic: `event: error`; OpenAI: `error` data),
        optionally with this error message."""
        return cls("error_event", status=status, after_tokens=tokens, message=message)

    @classmethod
    def textless_chunks(cls, seconds: float) -> Fault:
        """Before the first token, send chunks without text for this long, a few each second (OpenAI: reasoning-only
        deltas; Anthropic: empty text deltas), as a reasoning model or a keepalive-sending proxy does."""
        return cls("textless", seconds=seconds)

    @classmethod
    def slow(cls, per_token: float) -> Fault:
        """Wait this long before every token."""
        return cls("slow", seconds=per_token)


BREAKING_FAULTS = ("cut", "end_early", "malformed", "error_event")


def play_tokens(handler: Handler, tokens: list[str], fault: Fault | None, send_token, send_break) -> bool:
    """Stream tokens through send_token, applying slow and breaking faults; False when the stream was broken.

    A cut drops the connection and end_early ends the body; malformed and error_event faults are written by
    send_break(fault), then the body ends.
    """
    for index in range(len(tokens) + 1):
        if fault is not None and fault.kind in BREAKING_FAULTS and index == min(fault.after_tokens, len(tokens)):
            if fault.kind == "cut":
                handler.drop_connection()
            elif fault.kind == "end_early":
                handler.end_sse()
            else:
                send_break(fault)
                handler.end_sse()
            return False
        if index == len(tokens):
            return True
        if fault is not None and fault.kind == "slow" and not handler.pause(fault.seconds):
            return False
        send_token(tokens[index])
    return True


TEXTLESS_CHUNK_EVERY = 0.1  # seconds between the chunks of a `textless` fault


def play_textless_chunks(handler: Handler, fault: Fault | None, send_textless) -> bool:
    """Apply a `textless` fault: send_textless() every TEXTLESS_CHUNK_EVERY seconds for its duration; False when the
    server is stopping."""
    if fault is None or fault.kind != "textless":
        return True
    for _ in range(max(1, round(fault.seconds / TEXTLESS_CHUNK_EVERY))):
        if not handler.pause(TEXTLESS_CHUNK_EVERY):
            return False
        send_textless()
    return True


def retry_after_headers(fault: Fault) -> dict[str, str]:
    """The Retry-After header of a fault, if it has one, and its other headers."""
    headers = {"retry-after": fault.retry_after} if fault.retry_after is not None else {}
    return headers | dict(fault.headers)


def tokens_and_reason(fault: Fault | None, tokens: list[str], reason: str | None) -> tuple[list[str], str | None]:
    """The tokens to send and the finish reason, as a `finish` fault changes them."""
    if fault is None or fault.kind != "finish":
        return tokens, reason
    return (tokens if fault.after_tokens < 0 else tokens[: fault.after_tokens]), fault.reason


HTML_PAGE = b"<html><head><title>Sign in</title></head><body>Please sign in to continue.</body></html>"
# An answer cut off mid-object (the shape does not matter: no JSON parser gets past its end)
TRUNCATED_JSON = b'{"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{"index": 0, "message": {"conte'


def send_body(handler: Handler, content_type: str, body: bytes) -> None:
    """A complete 200 answer with this content type and body."""
    handler.send_response(200)
    handler.send_header("content-type", content_type)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


# Faults answered with a whole 200 body instead of the API's answer, streamed or not: (content type, body)
BODY_FAULTS = {
    "html": ("text/html; charset=utf-8", HTML_PAGE),
    "truncated": ("application/json", TRUNCATED_JSON),
}


def answered_with_a_body_fault(handler: Handler, fault: Fault | None) -> bool:
    """Send the body of an `html` or `truncated` fault; False (nothing sent) for any other fault."""
    if fault is None or fault.kind not in BODY_FAULTS:
        return False
    send_body(handler, *BODY_FAULTS[fault.kind])
    return True
