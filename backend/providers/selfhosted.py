"""Self-hosted OpenAI-compatible servers (vLLM, llama.cpp server, Ollama's /v1) through SK's OpenAIChatCompletion."""

from __future__ import annotations

from typing import Any

from backend.providers.openai import OpenAIProvider
from backend.providers.sk_services import load_openai_connector

NO_KEY = "none"  # the SDK insists on a key; servers without auth ignore the header


class SelfHostedProvider(OpenAIProvider):
    """An OpenAI-compatible server at `base_url` (e.g. http://gpu-1:8000/v1), with or without an API key."""

    max_tokens_field = "max_tokens"  # what vLLM, llama.cpp and Ollama all accept

    def build_client(self, timeout: Any) -> Any:
        """AsyncOpenAI pointed at the server, without SDK retries."""
        return load_openai_connector().AsyncOpenAI(
            api_key=self.config.api_key or NO_KEY,
            base_url=self.required_base_url(),
            **self.client_options(timeout),
        )
