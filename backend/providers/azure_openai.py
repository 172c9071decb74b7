"""Azure OpenAI through SK's AzureChatCompletion; a model's id is its deployment name."""

from __future__ import annotations

from typing import Any

from backend.providers.base import ChatRequest, ModelSpec
from backend.providers.sk_chat import SKChatProvider
from backend.providers.sk_services import load_openai_connector, openai_response_format, wants_schema

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIProvider(SKChatProvider):
    """Azure OpenAI via an injected AsyncAzureOpenAI client (SK's own endpoint check rejects http:// URLs)."""

    @staticmethod
    def sdk() -> Any:
        """SK's connector classes and the SDK, imported on first use."""
        return load_openai_connector()

    def build_client(self, timeout: Any) -> Any:
        """AsyncAzureOpenAI on the resource endpoint (`base_url`), api_version from `extra`, no SDK retries."""
        return self.sdk().AsyncAzureOpenAI(
            azure_endpoint=self.required_base_url("the Azure resource endpoint"),
            api_key=self.required_key(),
            api_version=self.config.extra.get("api_version", DEFAULT_API_VERSION),
            **self.client_options(timeout),
        )

    def build_service(self, model: ModelSpec, client: Any) -> Any:
        """SK's Azure chat connector for the deployment."""
        return load_openai_connector().AzureChatCompletion(deployment_name=model.id, async_client=client)

    def execution_settings(self, model: ModelSpec, request: ChatRequest) -> Any:
        """Deployment, token limit, temperature, and a JSON-schema response format when the model supports it."""
        settings = load_openai_connector().AzureChatPromptExecutionSettings(
            ai_model_id=model.id, temperature=request.temperature, max_completion_tokens=request.max_output_tokens
        )
        if wants_schema(model, request):
            settings.response_format = openai_response_format(request.json_schema)
        return settings
