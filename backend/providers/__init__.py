"""Providers: choosing one is a lookup in `PROVIDERS`, never an if-chain.

Importing this package is cheap: provider modules import their SDK and Semantic Kernel only on first use, or when
`preload_sdks` asks for them (a serving worker does, before it accepts connections).
"""

from __future__ import annotations

from importlib.util import find_spec

from backend.providers.anthropic import AnthropicProvider
from backend.providers.azure_openai import AzureOpenAIProvider
from backend.providers.base import Provider
from backend.providers.openai import OpenAIProvider
from backend.providers.selfhosted import SelfHostedProvider
from backend.providers.sk_services import load_sk


def _installed(*modules: str) -> bool:
    """Whether these modules can be imported (without importing them)."""
    return all(find_spec(module) is not None for module in modules)


# Every provider type: its name in the providers file and tenant settings, its class, the modules it needs.
# Adding a provider type is one file in this package and one line here (docs/development.md).
PROVIDER_CLASSES: tuple[tuple[str, type[Provider], tuple[str, ...]], ...] = (
    ("openai", OpenAIProvider, ("openai", "semantic_kernel")),
    ("azure_openai", AzureOpenAIProvider, ("openai", "semantic_kernel")),
    ("anthropic", AnthropicProvider, ("anthropic", "semantic_kernel")),
    ("selfhosted", SelfHostedProvider, ("openai", "semantic_kernel")),
)
# The type names a providers file and a tenant's settings accept, installed or not.
PROVIDER_TYPES: tuple[str, ...] = tuple(name for name, _, _ in PROVIDER_CLASSES)
# type name -> provider class; a provider whose optional SDK is missing simply does not register.
PROVIDERS: dict[str, type[Provider]] = {name: cls for name, cls, needs in PROVIDER_CLASSES if _installed(*needs)}


def build_provider(config) -> Provider:
    """A provider instance for a configuration, by its type."""
    return PROVIDERS[config.type](config)


def preload_sdks() -> None:
    """Import every registered provider's SDK and Semantic Kernel connector now rather than on first use."""
    load_sk()
    for provider_class in dict.fromkeys(PROVIDERS.values()):
        provider_class.sdk()
