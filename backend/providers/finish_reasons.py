"""Why a model stopped, as each wire protocol says it, read into SK's FinishReason or refused with a clear error.

Semantic Kernel 1.45 knows only its own FinishReason values (stop, length, content_filter, tool_calls, function_call)
and Anthropic's end_turn, max_tokens and tool_use; anything else failed inside SK (a ValueError or a KeyError) and read
as a retryable server failure named by its exception class. The connectors in sk_services read every reason here.
An error's message names the reason (cut short, printable characters only), never any text of the answer.
"""

from __future__ import annotations

import functools
from typing import Any

from backend.providers.base import ProviderError

# Every stop_reason of the Messages API as SK's finish reason. A refusal resent to the next model, or an answer
# ended by a stop sequence read as an interrupted stream, were the failures of SK's own table. `pause_turn` (server
# tools, which Switchboard never enables) and reasons newer than this table are refused as an answer we cannot use.
ANTHROPIC_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# finish_reason values OpenAI-compatible servers send beyond OpenAI's own: older text-generation-inference releases
# say how the model stopped in their own words.
OPENAI_EXTRA_FINISH_REASONS = {
    "eos_token": "stop",
    "stop_sequence": "stop",
}
# The server, not the model, ended the answer (vLLM: a request aborted by preemption, an engine shutdown or scale-down,
# then `[DONE]` as if it had finished): the model may well answer on a retry, so this is a retryable server failure,
# which sends the call on to the next model before any text reached the caller, and ends a stream with
# stream_interrupted after.
SERVER_ABORTED = frozenset({"abort"})
REASON_CHARS = 40  # how much of an unknown reason a message quotes


def anthropic_finish_reason(stop_reason: str | None) -> Any:
    """SK's FinishReason for an Anthropic stop_reason (None stays None); ProviderError for one we cannot use."""
    if stop_reason is None:
        return None
    if not isinstance(stop_reason, str) or stop_reason not in ANTHROPIC_STOP_REASONS:
        raise unhandled_reason("stop_reason", stop_reason)
    return _finish_reason_enum()(ANTHROPIC_STOP_REASONS[stop_reason])


def openai_finish_reason(reason: Any) -> str | None:
    """The finish_reason SK can read for an OpenAI-wire `finish_reason` (None or empty stays as it is);
    ProviderError for a server's abort (retryable) or a reason we cannot use (not retried)."""
    if not reason:
        return reason
    if not isinstance(reason, str):  # the SDKs build responses without validating them: any JSON may come
        raise unhandled_reason("finish_reason", reason)
    if reason in _known_values():
        return reason
    if reason in OPENAI_EXTRA_FINISH_REASONS:
        return OPENAI_EXTRA_FINISH_REASONS[reason]
    if reason in SERVER_ABORTED:
        message = f"the server aborted the answer before it was finished (finish_reason {quoted(reason)})"
        raise ProviderError("server", message)
    raise unhandled_reason("finish_reason", reason)


def unhandled_reason(field: str, reason: Any) -> ProviderError:
    """A reason to stop that Switchboard cannot read: the answer may be incomplete, and is refused (not retried)."""
    return ProviderError(
        "protocol", f"the model stopped for a reason Switchboard does not handle ({field} {quoted(reason)})"
    )


def quoted(reason: Any) -> str:
    """A provider's reason fit for a message and a log line: at most REASON_CHARS printable characters."""
    text = str(reason)[:REASON_CHARS]
    return "".join(char if char.isprintable() else "?" for char in text)


def _finish_reason_enum() -> Any:
    """SK's FinishReason, imported on first use (SK's import costs seconds)."""
    from semantic_kernel.contents.utils.finish_reason import FinishReason

    return FinishReason


@functools.cache
def _known_values() -> frozenset[str]:
    """The finish_reason values SK reads itself."""
    return frozenset(member.value for member in _finish_reason_enum())
