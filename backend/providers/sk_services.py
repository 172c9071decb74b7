"""Semantic Kernel, loaded once per process on first use (its import costs seconds), and request translation."""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from backend.providers.base import ChatRequest, ModelSpec
from backend.providers.finish_reasons import anthropic_finish_reason, openai_finish_reason

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


def messages_as_extra_body(settings: dict[str, Any]) -> dict[str, Any]:
    """The SDK call's keyword arguments with the messages sent as they are, through the SDKs' public `extra_body`.

    The OpenAI and Anthropic SDKs walk every message through their request-parameter transformation (each message
    against every member of a union of typed dicts), which changes nothing in a message made only of JSON values,
    as ours always are, but cost 0.4-0.7 ms of CPU per call: a third of the OpenAI SDK's own work for a chat call
    (docs/performance.md). `extra_body` is merged into the JSON body over the SDK's fields, so the request carries
    the same fields and values (only `messages` moves to the end of the object). Anything that is not plain JSON (a
    message part SK might one day hand over as an object) keeps the SDK's path.
    """
    messages = settings.get("messages")
    if not messages or not _plain_json(messages):
        return settings
    extra = dict(settings.get("extra_body") or {})
    extra["messages"] = messages
    return {**settings, "messages": [], "extra_body": extra}


def _plain_json(value: Any) -> bool:
    """Whether a value is made only of dicts with string keys, lists, strings, numbers, booleans and None."""
    if isinstance(value, str | int | float | bool) or value is None:
        return True
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_plain_json(item) for item in value)
    return False


class MessagesAsSent:
    """Mixin for SK execution settings: the SDK gets the messages through `extra_body` (messages_as_extra_body)."""

    def prepare_settings_dict(self, **kwargs: Any) -> dict[str, Any]:
        """SK's settings dictionary, messages moved to `extra_body`."""
        return messages_as_extra_body(super().prepare_settings_dict(**kwargs))  # type: ignore[misc]


class ReadsEveryFinishReason:
    """Mixin for SK's OpenAI and Azure OpenAI connectors: a choice's finish_reason goes through
    `openai_finish_reason` first, so SK is handed only a reason it knows (its own FinishReason fails with a ValueError
    on any other, which read as a retryable server failure), and a server's abort or an unknown reason is a clear
    ProviderError."""

    def _create_chat_message_content(self, response: Any, choice: Any, response_metadata: dict[str, Any]) -> Any:
        """SK's message for a choice of a whole answer."""
        return super()._create_chat_message_content(  # type: ignore[misc]
            response, _readable_choice(choice), response_metadata
        )

    def _create_streaming_chat_message_content(self, chunk: Any, choice: Any, *args: Any, **kwargs: Any) -> Any:
        """SK's message for a choice of a streamed chunk."""
        return super()._create_streaming_chat_message_content(  # type: ignore[misc]
            chunk, _readable_choice(choice), *args, **kwargs
        )


def _readable_choice(choice: Any) -> Any:
    """The choice itself, or a copy whose finish_reason SK can read (ProviderError when there is none)."""
    reason = openai_finish_reason(choice.finish_reason)
    return choice if reason == choice.finish_reason else choice.model_copy(update={"finish_reason": reason})


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

    class OpenAIConnector(ReadsEveryFinishReason, OpenAIChatCompletion):
        """SK's OpenAI connector reading every finish_reason (finish_reasons.openai_finish_reason)."""

    class AzureConnector(ReadsEveryFinishReason, AzureChatCompletion):
        """SK's Azure OpenAI connector reading every finish_reason (finish_reasons.openai_finish_reason)."""

    class OpenAISettings(MessagesAsSent, OpenAIChatPromptExecutionSettings):
        """SK's OpenAI settings, messages sent as they are."""

    class AzureSettings(MessagesAsSent, AzureChatPromptExecutionSettings):
        """SK's Azure OpenAI settings, messages sent as they are."""

    return SimpleNamespace(
        AsyncOpenAI=AsyncOpenAI,
        AsyncAzureOpenAI=AsyncAzureOpenAI,
        Timeout=Timeout,
        DefaultAioHttpClient=DefaultAioHttpClient,
        OpenAIChatCompletion=OpenAIConnector,
        OpenAIChatPromptExecutionSettings=OpenAISettings,
        AzureChatCompletion=AzureConnector,
        AzureChatPromptExecutionSettings=AzureSettings,
    )


@functools.cache
def load_anthropic_connector() -> SimpleNamespace:
    """Import SK's Anthropic connector and the Anthropic SDK, with settings that can carry structured output."""
    from anthropic import AsyncAnthropic, DefaultAioHttpClient, Timeout
    from anthropic.types import RawMessageDeltaEvent

    with quiet_import():
        from semantic_kernel.connectors.ai.anthropic import (
            AnthropicChatCompletion,
            AnthropicChatPromptExecutionSettings,
        )

    class AnthropicConnector(AnthropicChatCompletion):
        """SK's Anthropic connector reading every stop_reason (ANTHROPIC_STOP_REASONS): SK's own mapping is handed
        a reason it knows, and the message then gets the real one."""

        def _create_chat_message_content(self, response: Any, response_metadata: dict[str, Any]) -> Any:
            finish_reason = anthropic_finish_reason(response.stop_reason)
            known = response.model_copy(update={"stop_reason": None})
            message = super()._create_chat_message_content(known, response_metadata)
            message.inner_content, message.finish_reason = response, finish_reason
            return message

        def _create_streaming_chat_message_content(self, stream_event: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(stream_event, RawMessageDeltaEvent):
                return super()._create_streaming_chat_message_content(stream_event, *args, **kwargs)
            finish_reason = anthropic_finish_reason(stream_event.delta.stop_reason)
            delta = stream_event.delta.model_copy(update={"stop_reason": "end_turn"})
            message = super()._create_streaming_chat_message_content(
                stream_event.model_copy(update={"delta": delta}), *args, **kwargs
            )
            message.inner_content, message.finish_reason = stream_event, finish_reason
            return message

    class StructuredAnthropicSettings(MessagesAsSent, AnthropicChatPromptExecutionSettings):
        """SK's Anthropic settings plus `output_config`, which SK does not model yet but passes through; messages
        sent as they are."""

        output_config: dict[str, Any] | None = None

    return SimpleNamespace(
        AsyncAnthropic=AsyncAnthropic,
        Timeout=Timeout,
        DefaultAioHttpClient=DefaultAioHttpClient,
        AnthropicChatCompletion=AnthropicConnector,
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
