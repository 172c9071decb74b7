"""The load client of bench/overhead.py and bench/idle_gaps.py: raw HTTP/1.1 keep-alive requests, sent by concurrent
clients from a separate process, with latency percentiles and the servers' CPU per request.

Each client sends its next request when the previous answer arrived (a closed loop), on one connection; asyncio on
raw sockets keeps the client's own CPU per request small next to the server's.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from streams import cpu_seconds  # noqa: E402 - the sibling bench's process helpers


def http_request(path: str, port: int, body: dict | None, headers: dict[str, str]) -> bytes:
    """A raw HTTP/1.1 keep-alive request: a POST with a JSON body, or a GET when there is no body."""
    head = f"{'GET' if body is None else 'POST'} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    if body is None:
        return (head + "\r\n").encode()
    payload = json.dumps(body).encode()
    head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    return head.encode() + payload


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one Content-Length response; return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def client_loop(port: int, request: bytes, delay: float, warmup_end: float, end: float, out: dict) -> None:
    """One client: after `delay`, send, wait for the answer, repeat on one keep-alive connection until `end`."""
    await asyncio.sleep(delay)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    clock = time.perf_counter
    try:
        while (start := clock()) < end:
            writer.write(request)
            status = await read_response(reader)
            done = clock()
            if start >= warmup_end:
                if status == 200:
                    out["latencies"].append(done - start)
                else:
                    out["errors"][status] = out["errors"].get(status, 0) + 1
    finally:
        writer.close()


async def run_load(
    port: int, requests: list[bytes], clients: int, warmup: float, seconds: float, spread: float = 0.0
) -> dict:
    """`clients` concurrent clients for warmup + seconds; latencies of the measured part only.

    With `spread` (at most the warm-up), client i starts i/clients of it late: clients that all start at once on a
    model whose answer always takes the same time stay in step, and every request would arrive in a burst of
    `clients` at the same instant, which real traffic does not do.
    """
    out: dict = {"latencies": [], "errors": {}}
    begin = time.perf_counter()
    warmup_end, end = begin + warmup, begin + warmup + seconds
    tasks = [
        client_loop(port, requests[i % len(requests)], spread * i / clients, warmup_end, end, out)
        for i in range(clients)
    ]
    await asyncio.gather(*tasks)
    return out


def load_process(
    port: int, requests: list[bytes], clients: int, warmup: float, seconds: float, spread: float, results
) -> None:
    """Entry point of the load process; also reports its own CPU time."""
    out = asyncio.run(run_load(port, requests, clients, warmup, seconds, spread))
    results.put((out["latencies"], out["errors"], time.process_time()))


def measure(
    port: int, requests: list[bytes], clients: int, warmup: float, seconds: float, pids: list[int], spread: float = 0.0
) -> dict:
    """One load step in a fresh process (clients started over `spread` seconds): percentiles, throughput, errors,
    CPU of the servers and the client."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    process = context.Process(target=load_process, args=(port, requests, clients, warmup, seconds, spread, results))
    process.start()
    latencies, errors, client_cpu = results.get()
    process.join()
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    latencies.sort()
    answered = len(latencies) / seconds * (warmup + seconds)  # requests in the whole step, at the measured rate
    return {
        "n": len(latencies),
        "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "rps": len(latencies) / seconds,
        "errors": errors,
        "server_cpu": cpu,
        "cpu_ms_per_request": cpu * 1000 / answered if answered else float("nan"),
        "client_cpu": client_cpu,
        "load": os.getloadavg()[0],
    }


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile of sorted values (nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * q))]
