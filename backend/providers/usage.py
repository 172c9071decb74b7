"""Token usage, normalised in one place across connectors, and the estimate used when a provider reports none.

OpenAI-style connectors report `prompt_tokens`/`completion_tokens` (streaming: once, on the final chunk). Anthropic
reports `input_tokens`/`output_tokens`, and while streaming repeats them on several events with running totals
(message_start, then message_delta): counts are merged by taking the maximum, never the sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.providers.base import ChatMessage, Usage

# Four characters per token is the usual rule of thumb for English text with BPE tokenizers; it is only used when
# the provider gave no count (a stream cut before its usage event, a server that never reports usage).
CHARS_PER_TOKEN = 4


def normalise_usage(raw: Any) -> Usage | None:
    """A connector's usage (SK CompletionUsage, an SDK usage object, or a dict) as Usage; None when absent."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        read = raw.get
    else:

        def read(key: str) -> Any:
            """Read an attribute of an SDK usage object."""
            return getattr(raw, key, None)

    input_tokens = _first_int(read("input_tokens"), read("prompt_tokens"))
    output_tokens = _first_int(read("output_tokens"), read("completion_tokens"))
    if input_tokens is None and output_tokens is None:
        return None
    return Usage(input_tokens=input_tokens or 0, output_tokens=output_tokens or 0)


def merge_usage(known: Usage | None, update: Usage | None) -> Usage | None:
    """Combine two reports of the same call: running totals, so the larger count wins."""
    if known is None or update is None:
        return known or update
    return Usage(
        input_tokens=max(known.input_tokens, update.input_tokens),
        output_tokens=max(known.output_tokens, update.output_tokens),
        estimated=known.estimated and update.estimated,
    )


def estimate_tokens(text: str) -> int:
    """A token count for text no provider counted: ceil(characters / 4), at least 1 for non-empty text."""
    return -(-len(text) // CHARS_PER_TOKEN) if text else 0


def usage_or_estimate(
    reported: Usage | None, messages: Iterable[ChatMessage], output_text: str, finished: bool
) -> Usage:
    """The usage to meter: the provider's own count for a finished call, else topped up by estimates.

    A cut stream may carry a stale count (Anthropic's message_start says 1 output token): the estimate of the text
    actually received wins when it is larger, and the result is marked `estimated`.
    """
    if reported is not None and finished:
        return reported
    estimated_output = estimate_tokens(output_text)
    if reported is None:
        estimated_input = sum(estimate_tokens(message.content) for message in messages)
        return Usage(input_tokens=estimated_input, output_tokens=estimated_output, estimated=True)
    if estimated_output > reported.output_tokens:
        return Usage(input_tokens=reported.input_tokens, output_tokens=estimated_output, estimated=True)
    return reported


def _first_int(*values: Any) -> int | None:
    """The first value that is an int."""
    for value in values:
        if isinstance(value, int):
            return value
    return None
