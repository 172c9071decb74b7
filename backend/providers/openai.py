"""OpenAI (api.openai.com or any endpoint speaking its API) through SK's OpenAIChatCompletion."""

from __future__ import annotations

from typing import Any

from backend.providers.base import ChatRequest, ModelSpec
from backend.providers.sk_chat import SKChatProvider
from backend.providers.sk_services import load_openai_connector, openai_response_format, wants_schema


class OpenAIProvider(SKChatProvider):
    """OpenAI Chat Completions via an injected AsyncOpenAI client."""

    max_tokens_field = "max_completion_tokens"  # OpenAI's current name; older servers only know max_tokens

    @staticmethod
    def sdk() -> Any:
        """SK's connector classes and the SDK, imported on first use."""
        return load_openai_connector()

    def build_client(self, timeout: Any) -> Any:
        """AsyncOpenAI on the configured base URL, without SDK retries."""
        return self.sdk().AsyncOpenAI(
            api_key=self.required_key(),
            base_url=self.config.base_url,
            **self.client_options(timeout),
        )

    def build_service(self, model: ModelSpec, client: Any) -> Any:
        """SK's OpenAI chat connector for the model."""
        return load_openai_connector().OpenAIChatCompletion(ai_model_id=model.id, async_client=client)

    def ends_stream(self, message: Any) -> bool:
        """The usage chunk (`choices: []`, asked for with stream_options.include_usage) comes after the last choice:
        a server that sends `finish_reason: null` at the end (some OpenAI-compatible servers) still finished."""
        chunk = getattr(message, "inner_content", None)
        return getattr(chunk, "choices", None) == [] and getattr(chunk, "usage", None) is not None

    def execution_settings(self, model: ModelSpec, request: ChatRequest) -> Any:
        """Model, token limit, temperature, and a JSON-schema response format when the model supports it."""
        settings = load_openai_connector().OpenAIChatPromptExecutionSettings(
            ai_model_id=model.id, temperature=request.temperature
        )
        setattr(settings, self.max_tokens_field, request.max_output_tokens)
        if wants_schema(model, request):
            settings.response_format = openai_response_format(request.json_schema)
        return settings
