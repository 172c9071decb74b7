"""Semantic Kernel, loaded once per process on first use (its import costs seconds), and request translation."""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from backend.providers.base import ChatRequest, ModelSpec

ROLES = ("system", "user", "assistant")


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """Silence the deprecation warnings SK's modules raise while being imported (pydantic 2.11+ deprecations in SK's
    own models): they are SK's to fix, and tests run with warnings as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@functools.cache
def load_sk() -> SimpleNamespace:
    """Import the SK pieces every provider needs; cached, so the cost is paid once per process."""
    with quiet_import():
        from semantic_kernel.contents import AuthorRole, ChatHistory, ChatMessageContent

    return SimpleNamespace(AuthorRole=AuthorRole, ChatHistory=ChatHistory, ChatMessageContent=ChatMessageContent)


@functools.cache
def load_openai_connector() -> SimpleNamespace:
    """Import SK's OpenAI and Azure OpenAI connectors and the OpenAI SDK."""
    from openai import AsyncAzureOpenAI, AsyncOpenAI, DefaultAioHttpClient, Timeout

    with quiet_import():
        from semantic_kernel.connectors.ai.open_ai import (
            AzureChatCompletion,
            AzureChatPromptExecutionSettings,
            OpenAIChatCompletion,
            OpenAIChatPromptExecutionSettings,
        )

    return SimpleNamespace(
        AsyncOpenAI=AsyncOpenAI,
        AsyncAzureOpenAI=AsyncAzureOpenAI,
        Timeout=Timeout,
        DefaultAioHttpClient=DefaultAioHttpClient,
        OpenAIChatCompletion=OpenAIChatCompletion,
        OpenAIChatPromptExecutionSettings=OpenAIChatPromptExecutionSettings,
        AzureChatCompletion=AzureChatCompletion,
        AzureChatPromptExecutionSettings=AzureChatPromptExecutionSettings,
    )


@functools.cache
def load_anthropic_connector() -> SimpleNamespace:
    """Import SK's Anthropic connector and the Anthropic SDK, with settings that can carry structured output."""
    from anthropic import AsyncAnthropic, DefaultAioHttpClient, Timeout

    with quiet_import():
        from semantic_kernel.connectors.ai.anthropic import (
            AnthropicChatCompletion,
            AnthropicChatPromptExecutionSettings,
        )

    class StructuredAnthropicSettings(AnthropicChatPromptExecutionSettings):
        """SK's Anthropic settings plus `output_config`, which SK does not model yet but passes through."""

        output_config: dict[str, Any] | None = None

    return SimpleNamespace(
        AsyncAnthropic=AsyncAnthropic,
        Timeout=Timeout,
        DefaultAioHttpClient=DefaultAioHttpClient,
        AnthropicChatCompletion=AnthropicChatCompletion,
        AnthropicChatPromptExecutionSettings=StructuredAnthropicSettings,
    )


def chat_history(request: ChatRequest) -> Any:
    """The request's messages as an SK ChatHistory (a new one per call: SK mutates it)."""
    sk = load_sk()
    history = sk.ChatHistory()
    for message in request.messages:
        if message.role not in ROLES:
            raise ValueError(f"unsupported chat role {message.role!r}")
        history.add_message(sk.ChatMessageContent(role=sk.AuthorRole(message.role), content=message.content))
    return history


def wants_schema(model: ModelSpec, request: ChatRequest) -> bool:
    """Whether to ask for structured output: the request has a schema and the model can honour one."""
    return request.json_schema is not None and "json_schema" in model.capabilities


def openai_response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's response_format for a JSON schema; a {name, schema[, strict]} dict is taken as already wrapped."""
    if "schema" in schema and "name" in schema:
        return {"type": "json_schema", "json_schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
