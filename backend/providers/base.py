"""What every provider is and speaks: model and provider descriptions, the chat request, usage, and errors.

A provider is one file in this package plus one line in the `PROVIDERS` registry (backend/providers/__init__.py).
The router and the dispatcher only ever use the names defined here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol

CAPABILITIES = ("streaming", "json_schema", "tools")


@dataclass(frozen=True)
class ModelSpec:
    """One model of one provider, as the catalog knows it."""

    provider: str  # the provider's unique name, e.g. "openai-main"
    id: str  # the model id sent on the wire, e.g. "gpt-4.1-mini"
    context_window: int
    max_output_tokens: int
    capabilities: frozenset[str] = frozenset({"streaming"})
    price_in_per_million: Decimal = Decimal(0)
    price_out_per_million: Decimal = Decimal(0)
    location: str = "unknown"
    tier: int = 2  # 1 = frontier ... 3 = small

    @property
    def ref(self) -> str:
        """How the model is named in settings and answers: "<provider name>/<model id>"."""
        return f"{self.provider}/{self.id}"

    def cost_usd(self, input_tokens: int, output_tokens: int) -> Decimal:
        """What a call with these token counts costs."""
        million = Decimal(1_000_000)
        return (self.price_in_per_million * input_tokens + self.price_out_per_million * output_tokens) / million


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, to receive the first token, and for the whole call."""

    connect: float = 5.0
    first_token: float = 30.0
    total: float = 300.0


@dataclass(frozen=True)
class ProviderConfig:
    """A configured provider: platform-wide (owner None) or added by a tenant (owner = tenant id)."""

    name: str
    type: str  # registry key (backend/providers/__init__.py): openai | azure_openai | anthropic | selfhosted
    models: tuple[ModelSpec, ...]
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed, never logged
    owner: str | None = None
    enabled: bool = True
    timeouts: Timeouts = Timeouts()
    extra: dict[str, Any] = field(default_factory=dict)  # type-specific settings, e.g. azure api_version

    @property
    def location(self) -> str:
        """Where the provider runs, taken from its first model."""
        return self.models[0].location if self.models else "unknown"


@dataclass
class ChatMessage:
    """One message of a conversation. Document text travels spotlighted: in a user turn, or in an earlier assistant
    answer of a conversation skill that quotes it (Skill.history_messages)."""

    role: str  # system | user | assistant
    content: str


@dataclass
class ChatRequest:
    """What the dispatcher asks a model to do."""

    messages: list[ChatMessage]
    max_output_tokens: int = 1024
    temperature: float | None = None
    json_schema: dict[str, Any] | None = None  # structured output, where the model supports it


@dataclass
class Usage:
    """Tokens of one call, normalised across connectors (OpenAI prompt/completion, Anthropic input/output)."""

    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False  # True when counted locally because the provider reported none (e.g. a cut stream)


# Why a model stopped, normalised by Semantic Kernel across connectors (OpenAI `finish_reason`, Anthropic
# `stop_reason`): "stop" when the answer was complete, LENGTH_LIMIT when it reached max_output_tokens and was cut off,
# CONTENT_FILTERED when the provider's safety system stopped it (OpenAI/Azure `content_filter`, Anthropic `refusal`):
# the text so far is not the answer, and the call fails with the `content_filter` kind.
LENGTH_LIMIT = "length"
CONTENT_FILTERED = "content_filter"


def reached_output_limit(finish_reason: str | None) -> bool:
    """Whether an answer that stopped for this reason reached its call's max_output_tokens and ends mid-way."""
    return finish_reason == LENGTH_LIMIT


@dataclass
class Completion:
    """A finished, non-streamed answer."""

    text: str
    usage: Usage
    finish_reason: str | None = None


@dataclass
class StreamChunk:
    """One piece of a streamed answer: text, and/or, on the last chunk, the usage and why the model stopped."""

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None


class ProviderError(Exception):
    """A provider call failed. `retryable` tells the router whether another candidate should be tried.

    kind: connect | timeout | first_token_timeout | rate_limited | overloaded | server | auth | client | protocol |
    content_filter (the provider's safety system refused the prompt or stopped the answer: never resent elsewhere).
    The message never contains the API key, the prompt or the answer.
    `usage` is what the call consumed before it failed (a stream cut after some text), when known.
    """

    RETRYABLE_KINDS: ClassVar[frozenset[str]] = frozenset(
        {"connect", "timeout", "first_token_timeout", "rate_limited", "overloaded", "server"}
    )

    def __init__(
        self,
        kind: str,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
        usage: Usage | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.usage = usage

    @property
    def retryable(self) -> bool:
        """Whether the next candidate model may be tried."""
        return self.kind in self.RETRYABLE_KINDS


class Provider(Protocol):
    """The one interface of a provider: complete, or stream, a chat request on one of its models."""

    config: ProviderConfig

    async def complete(self, model: ModelSpec, request: ChatRequest) -> Completion:
        """Answer the request in one piece."""
        ...

    def stream(self, model: ModelSpec, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Answer the request as a stream of chunks; the last chunk carries usage where the provider reports it."""
        ...

    async def aclose(self) -> None:
        """Release pooled connections, once the calls in flight have ended (they are never cut)."""
        ...
