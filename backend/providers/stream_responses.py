"""The HTTP responses a streamed call opened, closed by the call as it ends rather than left to the garbage collector.

Semantic Kernel's stream generators iterate the SDK's stream (`async for chunk in response`) and never close it when
they are closed themselves. The OpenAI SDK's AsyncStream and its generator refer to each other, so only Python's
cycle collector finalises it, and closes its response: a call cancelled between two chunks (the bridge's buffer full
because the reader is slow or gone) left the provider's HTTP response open, and the provider generating (billed,
never metered), for as long as a worker's frozen, rarely run collector took. So the SDK clients' HTTP client notes
every response it receives (`note_response`, an httpx response hook) in the list of the streamed call that the
current task is stepping (`noting_responses`, set around each step of SK's generator: the SDKs send the request in
the task that awaits them), and the call closes them as it ends (`close_responses`).
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any

# The responses of the streamed call whose generator the current task is stepping right now; None between steps.
noting_responses: ContextVar[list[Any] | None] = ContextVar("switchboard_stream_responses", default=None)


async def note_response(response: Any) -> None:
    """HTTP client response hook: add the response to the streamed call being stepped in this task, if any."""
    responses = noting_responses.get()
    if responses is not None:
        responses.append(response)


async def close_responses(responses: list[Any]) -> None:
    """Close each response: the connection is dropped if its body was not read to the end (the provider sees the
    client leave and stops), and closing one already closed (a stream read to its end) does nothing."""
    for response in responses:
        # A socket that fails as it closes is no failure of the call, which has already ended or failed its own way.
        with contextlib.suppress(Exception):
            await response.aclose()
