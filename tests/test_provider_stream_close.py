"""A streamed provider call that is closed mid-answer closes the provider's HTTP response at once, for every provider
type, whether the bridge's pump was waiting for the reader (its buffer full) or for the network: never left to a
garbage collection, which a worker runs rarely (gc.freeze(), a threshold of 10,000), while the provider generates."""

from __future__ import annotations

import gc
import threading
from contextlib import aclosing

import pytest

from backend import asyncbridge
from tests.fakes import FakeAnthropic, FakeOpenAI, Fault
from tests.fakes.harness import chat, make_provider

KINDS = ["openai", "azure_openai", "selfhosted", "anthropic"]
BUFFER = 64  # the bridge's buffer, as the API's streams use it
READ = 5  # chunks the reader takes before it stops or leaves
TOKENS = 20_000  # 20 s of answer at the fast pace: the provider is always still generating when the call ends
CLOSED_WITHIN = 2.0  # seconds the provider may wait to see its client leave

pytestmark = pytest.mark.usefixtures("sdks_loaded")


@pytest.fixture
def no_cycle_collection():
    """No cyclic garbage collection during the test: what a worker's rare collections look like to a stream."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture(params=KINDS)
def fake_and_provider(request):
    """A fake server speaking the provider type's wire protocol, and a provider of that type on it."""
    kind = request.param
    with FakeAnthropic() if kind == "anthropic" else FakeOpenAI() as fake:
        base_url = fake.url if kind in ("anthropic", "azure_openai") else fake.base_url
        provider, model = make_provider(kind, base_url, extra={"api_version": "2024-10-21"})
        try:
            yield fake, provider, model
        finally:
            asyncbridge.run_sync(provider.aclose())


def bridged_stream(
    provider, model, produced_past: int | None = None
) -> tuple[asyncbridge.BridgedIterator, threading.Event]:
    """The provider's stream through the bridge as the API reads it, and an event set once the provider has produced
    more than `produced_past` chunks."""
    past = threading.Event()

    async def counted():
        produced = 0
        async with aclosing(provider.stream(model, chat(max_output_tokens=TOKENS + 10))) as chunks:
            async for chunk in chunks:
                produced += 1
                if produced_past is not None and produced > produced_past:
                    past.set()
                yield chunk

    return asyncbridge.iterate(counted, max_buffer=BUFFER), past


@pytest.mark.usefixtures("no_cycle_collection")
def test_closing_while_the_buffer_is_full_closes_the_providers_response(fake_and_provider):
    fake, provider, model = fake_and_provider
    fake.script(reply=" ".join(f"w{n}" for n in range(TOKENS)), fault=Fault.slow(0.001))
    # After READ chunks taken and BUFFER waiting, one more produced is the one the pump holds while it waits for room.
    stream, pump_waiting = bridged_stream(provider, model, produced_past=READ + BUFFER)
    for _ in range(READ):
        assert next(stream).text
    assert pump_waiting.wait(10)
    assert not fake.client_left.is_set()

    stream.close()  # the reader left (a client gone, or cut off for taking nothing)

    assert fake.client_left.wait(CLOSED_WITHIN), "the provider's response stayed open"


@pytest.mark.usefixtures("no_cycle_collection")
def test_closing_while_waiting_for_the_provider_closes_its_response(fake_and_provider):
    fake, provider, model = fake_and_provider
    fake.script(reply=" ".join(f"w{n}" for n in range(TOKENS)), fault=Fault.slow(0.05))
    stream, _ = bridged_stream(provider, model)
    for _ in range(READ):  # taken as they come: the buffer is empty, the pump waits for the next token
        assert next(stream).text

    stream.close()

    assert fake.client_left.wait(CLOSED_WITHIN), "the provider's response stayed open"
