"""CPU per call of the OpenAI SDK alone: its default httpx transport, its aiohttp transport, and the aiohttp transport
with the messages passed through `extra_body` as the providers do (backend.providers.sk_services), in one run.

The clients call bench/fast_fake_provider.py (a fixed answer in tens of microseconds) the way the OpenAI provider
does (max_retries=0, explicit timeouts), first one call at a time, then with 50 calls in flight, and print the CPU
time per call of this process (the SDK, its transport and asyncio) and the calls per second. This is the floor of
what a non-streamed model call costs Switchboard's process before any of its own work.

    .venv/bin/python bench/sdk_transport.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from openai import AsyncOpenAI, DefaultAioHttpClient, Timeout

from backend.providers.sk_services import messages_as_extra_body

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from overhead import start_fake  # noqa: E402 - the sibling bench's fake provider launcher

MESSAGES = [
    {"role": "system", "content": "You summarize documents for the person who is reading them."},
    {"role": "user", "content": "Summarize the selected text. " + "Revenue rose eight percent. " * 15},
]


async def calls_per_second(client: AsyncOpenAI, calls: int, in_flight: int, extra_body: bool) -> tuple[float, float]:
    """(CPU ms per call, calls per second) for `calls` calls with at most `in_flight` at once, after a warm-up."""

    arguments = {"model": "gpt-bench", "messages": MESSAGES, "max_tokens": 100}
    if extra_body:  # as the providers send them: past the SDK's parameter transformation, same fields and values
        arguments = messages_as_extra_body(arguments)

    async def one() -> None:
        await client.chat.completions.create(**arguments)

    for _ in range(50):
        await one()
    gate = asyncio.Semaphore(in_flight)

    async def gated() -> None:
        async with gate:
            await one()

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(gated() for _ in range(calls)))
    return (time.process_time() - cpu) / calls * 1000, calls / (time.monotonic() - wall)


async def compare(port: int, calls: int) -> None:
    """Print one line per transport and concurrency."""
    base_url, timeout = f"http://127.0.0.1:{port}/v1", Timeout(connect=2, read=30, write=2, pool=2)
    transports = {
        "httpx (SDK default)": (lambda: None, False),
        "aiohttp (DefaultAioHttpClient)": (lambda: DefaultAioHttpClient(timeout=timeout), False),
        "aiohttp, messages in extra_body": (lambda: DefaultAioHttpClient(timeout=timeout), True),
    }
    print(f"{'transport':<32} {'in flight':>9} {'CPU ms/call':>11} {'calls/s':>8}")
    for name, (http_client, extra_body) in transports.items():
        for in_flight in (1, 50):
            client = AsyncOpenAI(
                api_key="sk-bench", base_url=base_url, max_retries=0, timeout=timeout, http_client=http_client()
            )
            try:
                cpu_ms, rate = await calls_per_second(client, calls, in_flight, extra_body)
            finally:
                await client.close()
            print(f"{name:<32} {in_flight:>9} {cpu_ms:>11.2f} {rate:>8.0f}")


def main() -> None:
    """Start the fake, compare, stop the fake."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="measured calls per line")
    args = parser.parse_args()
    fake, port = start_fake(0)
    try:
        asyncio.run(compare(port, args.calls))
    finally:
        fake.terminate()
        fake.wait(timeout=10)


if __name__ == "__main__":
    main()
