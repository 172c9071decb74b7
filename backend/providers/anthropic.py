"""Anthropic Messages through SK's AnthropicChatCompletion."""

from __future__ import annotations

from typing import Any

from backend.providers.base import ChatRequest, ModelSpec
from backend.providers.sk_chat import SKChatProvider
from backend.providers.sk_services import load_anthropic_connector, wants_schema


class AnthropicProvider(SKChatProvider):
    """Anthropic via an injected AsyncAnthropic client."""

    @staticmethod
    def sdk() -> Any:
        """SK's connector classes and the SDK, imported on first use."""
        return load_anthropic_connector()

    def build_client(self, timeout: Any) -> Any:
        """AsyncAnthropic (base_url optional), without SDK retries."""
        return self.sdk().AsyncAnthropic(
            api_key=self.required_key(),
            base_url=self.config.base_url,
            **self.client_options(timeout),
        )

    def build_service(self, model: ModelSpec, client: Any) -> Any:
        """SK's Anthropic connector; it demands api_key even with a client, which is only used for validation."""
        connector = load_anthropic_connector()
        return connector.AnthropicChatCompletion(ai_model_id=model.id, api_key=client.api_key, async_client=client)

    def execution_settings(self, model: ModelSpec, request: ChatRequest) -> Any:
        """Model, max tokens, temperature, and `output_config.format` for structured output when supported."""
        settings = load_anthropic_connector().AnthropicChatPromptExecutionSettings(
            ai_model_id=model.id, max_tokens=request.max_output_tokens, temperature=request.temperature
        )
        if wants_schema(model, request):
            settings.output_config = {"format": {"type": "json_schema", "schema": request.json_schema}}
        return settings
