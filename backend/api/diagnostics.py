"""A test-only streaming endpoint for the serving tests and the benchmark; registered only with ENABLE_DIAGNOSTICS.

It has no authentication, so it must stay off in production (the default).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from flask import Blueprint, Response, request
from prometheus_client import Counter

from backend.errors import ApiError
from backend.openapi import describe
from backend.streaming import sse_response

bp = Blueprint("diagnostics", __name__)

# How each diagnostic stream ended, counted in the generator's finally block: the observable proof that a client
# disconnect reaches the async generator.
DIAGNOSTIC_STREAMS_ENDED = Counter(
    "switchboard_diagnostics_streams_ended", "Diagnostic streams by how their generator ended", ["outcome"]
)
MAX_TOKENS = 100_000
MAX_INTERVAL_MS = 60_000


def int_arg(name: str, default: int, highest: int) -> int:
    """A bounded non-negative integer query argument, or 400."""
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or int(raw) > highest:
        raise ApiError(400, "bad_request", f"`{name}` must be an integer from 0 to {highest}.")
    return int(raw)


async def diagnostic_tokens(tokens: int, interval_seconds: float, fail_at: int | None) -> AsyncIterator[tuple]:
    """Yield `token` events on a fixed schedule, then `done`; counts whether it completed, failed or was cancelled."""
    outcome = "cancelled"
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        for index in range(tokens):
            if index == fail_at:
                outcome = "failed"
                raise RuntimeError("diagnostic failure requested")
            # Paced on a fixed schedule, like a model that streams at its own rate: a late token does not delay
            # the ones after it, so the benchmark sees the server's lag rather than an accumulated drift.
            await asyncio.sleep(max(0.0, started + (index + 1) * interval_seconds - loop.time()))
            yield "token", {"index": index, "sent_at_us": time.time_ns() // 1000}  # ints: like text, cheap to encode
        yield "done", {"tokens": tokens}
        outcome = "completed"
    finally:
        DIAGNOSTIC_STREAMS_ENDED.labels(outcome).inc()


@bp.get("/api/_diagnostics/stream")
@describe(
    "Test-only: stream N `token` events, one every interval_ms, then `done` (enabled by ENABLE_DIAGNOSTICS).",
    auth=False,
    content_type="text/event-stream",
    response={"type": "string"},
    responses={400: "A query argument is out of range"},
    query={
        "tokens": {"type": "integer", "minimum": 0, "maximum": MAX_TOKENS},
        "interval_ms": {"type": "integer", "minimum": 0, "maximum": MAX_INTERVAL_MS},
        "fail_at": {"type": "integer", "minimum": 0},
    },
    tags=["diagnostics"],
)
def diagnostic_stream() -> Response:
    """Stream tokens from an async generator through the bridge."""
    tokens = int_arg("tokens", 10, MAX_TOKENS)
    interval_seconds = int_arg("interval_ms", 50, MAX_INTERVAL_MS) / 1000
    fail_at: Any = int_arg("fail_at", 0, MAX_TOKENS) if "fail_at" in request.args else None
    return sse_response(lambda: diagnostic_tokens(tokens, interval_seconds, fail_at))
