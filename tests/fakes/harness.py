"""Helpers for tests that drive a real provider class against a fake server: build, call, collect a stream."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from backend.providers import PROVIDERS
from backend.providers.base import (
    ChatMessage,
    ChatRequest,
    Completion,
    ModelSpec,
    Provider,
    ProviderConfig,
    ProviderError,
    Timeouts,
    Usage,
)

TEST_KEY = "sk-test-secret-0123456789"
QUICK = Timeouts(connect=1.0, first_token=2.0, total=10.0)


def make_provider(
    kind: str,
    base_url: str,
    *,
    model_id: str = "test-model",
    api_key: str | None = TEST_KEY,
    timeouts: Timeouts = QUICK,
    capabilities: frozenset[str] = frozenset({"streaming"}),
    extra: dict[str, Any] | None = None,
) -> tuple[Provider, ModelSpec]:
    """A provider of the registry's `kind` pointed at base_url, and its one model."""
    model = ModelSpec(
        provider="fake", id=model_id, context_window=8192, max_output_tokens=512, capabilities=capabilities
    )
    config = ProviderConfig(
        name="fake",
        type=kind,
        models=(model,),
        base_url=base_url,
        api_key=api_key,
        timeouts=timeouts,
        extra=extra or {},
    )
    return PROVIDERS[kind](config), model


def chat(text: str = "hello there world", system: str | None = "be brief", **fields: Any) -> ChatRequest:
    """A small chat request: an optional system message and one user message."""
    messages = ([ChatMessage("system", system)] if system else []) + [ChatMessage("user", text)]
    return ChatRequest(messages=messages, **fields)


@dataclass
class StreamResult:
    """What a consumer saw of a stream: text pieces, the final usage chunk, or the error that ended it."""

    texts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    error: ProviderError | None = None

    @property
    def text(self) -> str:
        """The text received, joined."""
        return "".join(self.texts)


async def collect(provider: Provider, model: ModelSpec, request: ChatRequest) -> StreamResult:
    """Consume a stream fully, keeping what arrived and the ProviderError if it failed."""
    result = StreamResult()
    try:
        async for chunk in provider.stream(model, request):
            if chunk.text:
                result.texts.append(chunk.text)
            if chunk.usage is not None:
                result.usage = chunk.usage
    except ProviderError as error:
        result.error = error
    return result


async def complete_or_error(provider: Provider, model: ModelSpec, request: ChatRequest) -> Completion | ProviderError:
    """The completion, or the ProviderError raised instead."""
    try:
        return await provider.complete(model, request)
    except ProviderError as error:
        return error


def run(provider: Provider, call: Callable[[], Awaitable[Any]]) -> Any:
    """Run one call on a fresh event loop and close the provider's connections afterwards."""

    async def main() -> Any:
        try:
            return await call()
        finally:
            await provider.aclose()

    return asyncio.run(main())


def write_two_providers(
    path, openai, claude, *, context: int = 8192, cheap_output: int = 512, claude_output: int = 512,
    first_token: float = 2,
):  # fmt: skip
    """A providers file naming a cheap OpenAI model ("cheap/gpt-test", us-east, tier 2) on `openai` and a dearer,
    better Anthropic one ("claude/claude-test", eu-west, tier 1) on `claude`; keys come from TEST_FAKE_KEY."""
    timeouts = f"{{connect: 1, first_token: {first_token}, total: 10}}"
    path.write_text(
        textwrap.dedent(
            f"""
            providers:
              - name: cheap
                type: openai
                base_url: {openai.base_url}
                api_key_env: TEST_FAKE_KEY
                timeouts: {timeouts}
                models:
                  - {{id: gpt-test, context_window: {context}, max_output_tokens: {cheap_output}, location: us-east,
                      tier: 2, capabilities: [streaming], price_per_million: {{input: 1, output: 2}}}}
              - name: claude
                type: anthropic
                base_url: {claude.base_url}
                api_key_env: TEST_FAKE_KEY
                timeouts: {timeouts}
                models:
                  - {{id: claude-test, context_window: {context}, max_output_tokens: {claude_output}, location: eu-west,
                      tier: 1, capabilities: [streaming], price_per_million: {{input: 3, output: 15}}}}
            """
        )
    )
    return path
