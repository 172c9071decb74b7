"""The provider registry, the cheap import, usage normalisation and the error mapping's pure parts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backend.providers import PROVIDERS, build_provider
from backend.providers.base import ChatMessage, ModelSpec, ProviderConfig, ProviderError, Usage
from backend.providers.errors import map_exception, status_error
from backend.providers.usage import estimate_tokens, merge_usage, normalise_usage, usage_or_estimate

ROOT = Path(__file__).resolve().parents[1]


def test_registry_holds_the_four_provider_types():
    assert set(PROVIDERS) == {"openai", "azure_openai", "anthropic", "selfhosted"}
    model = ModelSpec(provider="p", id="m", context_window=10, max_output_tokens=5)
    provider = build_provider(ProviderConfig(name="p", type="anthropic", models=(model,), api_key="k"))
    assert type(provider) is PROVIDERS["anthropic"]


def test_provider_types_are_listed_once_in_the_registry():
    """Adding a provider type is one file and one registry line: the providers file and tenant settings accept
    exactly the registry's types (no second list to keep in step)."""
    from backend.admin.settings_schema import PROVIDER_SCHEMA
    from backend.catalog.parsing import parse_provider_head
    from backend.providers import PROVIDER_CLASSES, PROVIDER_TYPES

    assert PROVIDER_TYPES == tuple(name for name, _, _ in PROVIDER_CLASSES)
    assert PROVIDER_SCHEMA["properties"]["type"]["enum"] == list(PROVIDER_TYPES)
    for kind in PROVIDER_TYPES:
        assert parse_provider_head({"name": "p", "type": kind}, "providers[0]") == ("p", kind)


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
def test_every_provider_calls_through_the_sdk_aiohttp_transport(kind, monkeypatch):
    """No httpx pool (its per-call scan of every pooled connection); proxy variables still honoured."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.test:3128")
    model = ModelSpec(provider="p", id="m", context_window=10, max_output_tokens=5)
    config = ProviderConfig(name="p", type=kind, models=(model,), api_key="k", base_url="https://models.test/v1")
    client = build_provider(config).build_client(None)
    http = client._client  # the SDK's httpx-compatible client
    assert type(http._transport).__name__ == "AiohttpTransport"
    proxied = [t for t in http._mounts.values() if t is not None]
    assert [str(t.proxy.url) for t in proxied] == ["http://proxy.corp.test:3128"]


def test_importing_and_building_providers_does_not_load_sdks():
    code = (
        "import sys; import backend.providers as p; from backend.providers.base import ProviderConfig;"
        "[p.build_provider(ProviderConfig(name=k, type=k, models=(), base_url='http://x/v1')) for k in p.PROVIDERS];"
        "print(sorted(m for m in ('semantic_kernel', 'openai', 'anthropic', 'httpx2') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}, (11, 7)),
        ({"input_tokens": 5, "output_tokens": 3}, (5, 3)),
        ({"output_tokens": 4}, (0, 4)),
        ({}, None),
        (None, None),
    ],
)
def test_usage_is_normalised_from_either_dialect(raw, expected):
    usage = normalise_usage(raw)
    assert (None if usage is None else (usage.input_tokens, usage.output_tokens)) == expected


def test_usage_objects_are_read_by_attribute():
    class SdkUsage:
        input_tokens = 9
        output_tokens = 2

    assert normalise_usage(SdkUsage()) == Usage(9, 2)


def test_repeated_usage_reports_merge_by_maximum():
    start, delta = Usage(input_tokens=20, output_tokens=1), Usage(input_tokens=20, output_tokens=30)
    assert merge_usage(merge_usage(None, start), delta) == Usage(20, 30)


def test_estimates_fill_in_only_where_the_provider_gave_nothing_or_lagged():
    messages = [ChatMessage("user", "x" * 40)]
    assert usage_or_estimate(Usage(3, 2), messages, "y" * 100, finished=True) == Usage(3, 2)
    assert usage_or_estimate(None, messages, "y" * 9, finished=False) == Usage(10, 3, estimated=True)
    assert usage_or_estimate(Usage(7, 1), messages, "y" * 20, finished=False) == Usage(7, 5, estimated=True)
    assert estimate_tokens("") == 0 and estimate_tokens("a") == 1


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [(429, "rate_limited", True), (529, "overloaded", True), (500, "server", True), (502, "server", True)]
    + [(401, "auth", False), (403, "auth", False), (400, "client", False), (404, "client", False)]
    + [(422, "client", False)],
)
def test_status_codes_map_to_kinds(status, kind, retryable):
    error = status_error(status, "p/m")
    assert (error.kind, error.retryable, error.status) == (kind, retryable, status)


def test_wrapped_causes_are_found_through_sk_exceptions():
    class ConnectError(Exception):
        """Named like httpx's and httpx2's connect error."""

    try:
        try:
            raise ConnectError("refused")
        except ConnectError as inner:
            raise RuntimeError("service failed to complete the prompt", inner) from inner
    except RuntimeError as outer:
        error = map_exception(outer, "p/m")
    assert error.kind == "connect"


def test_timeouts_before_the_first_token_are_first_token_timeouts():
    assert map_exception(TimeoutError(), "p/m", before_first_token=True).kind == "first_token_timeout"
    assert map_exception(TimeoutError(), "p/m").kind == "timeout"


def test_provider_error_carries_partial_usage():
    error = ProviderError("server", "p/m: dropped", usage=Usage(3, 4, estimated=True))
    assert error.retryable and error.usage.output_tokens == 4


def test_messages_travel_as_extra_body_only_when_plain_json():
    from backend.providers.sk_services import messages_as_extra_body

    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    moved = messages_as_extra_body({"model": "m", "messages": messages, "extra_body": {"seed": 1}})
    assert moved == {"model": "m", "messages": [], "extra_body": {"seed": 1, "messages": messages}}

    class Part:  # an object the SDK would have to serialise itself
        pass

    odd = {"model": "m", "messages": [{"role": "user", "content": [Part()]}]}
    assert messages_as_extra_body(odd) is odd
    assert messages_as_extra_body({"model": "m"}) == {"model": "m"}


@pytest.mark.parametrize("reason", [["stop"], {"type": "stop"}, 7])
def test_a_reason_to_stop_that_is_not_text_is_refused_never_a_crash(reason):
    # the SDKs build responses without validating them: a list was a TypeError (unhashable) read as "failed (...)"
    from backend.providers.finish_reasons import anthropic_finish_reason, openai_finish_reason

    for read in (openai_finish_reason, anthropic_finish_reason):
        with pytest.raises(ProviderError) as caught:
            read(reason)
        assert caught.value.kind == "protocol" and "does not handle" in str(caught.value)
