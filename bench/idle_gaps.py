"""What one request costs after the server sat idle: a lone client with a pause before each request.

The same three requests as bench/overhead.py (a direct call to the fake provider, `GET /api/me` and the summarize
skill through Switchboard), each on one keep-alive connection, back to back and then with 50 ms, 300 ms and 1 s of
idle before each one. A model that answers in a second leaves a lone caller's worker idle that long between its
requests; on a virtual machine whose caches other work fills in the meantime, the same Python code then runs
several times slower than back to back (docs/performance.md, "Session 6 results"). Prints p50 and min per gap.

    .venv/bin/python bench/idle_gaps.py [--samples 20] [--workers 1]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from http_load import measure  # noqa: E402 - sibling bench
from overhead import (  # noqa: E402 - sibling bench
    direct_requests,
    floor_requests,
    prepared_instance,
    start_fake,
    start_switchboard,
    stop,
    switchboard_requests,
)

GAPS = (0.0, 0.05, 0.3, 1.0)


def timed_request(sock: socket.socket, request: bytes) -> float:
    """Send one request on a keep-alive socket, read its Content-Length answer; milliseconds taken."""
    start = time.perf_counter()
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    """Start the fake provider and Switchboard, then time each request kind at each idle gap."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20, help="requests per gap (200 back to back)")
    parser.add_argument("--workers", default="1", help="gunicorn workers (1: every request meets the same worker)")
    args = parser.parse_args()
    fake, fake_port = start_fake(0)
    server = None
    try:
        with tempfile.TemporaryDirectory(prefix="sb-idle-") as instance:
            no_services = argparse.Namespace(database_url=None, redis_url=None)
            env, tokens = prepared_instance(no_services, instance, fake_port, 1)
            server, port = start_switchboard(env, ["--workers", args.workers])
            invoke = switchboard_requests(port, tokens)
            measure(port, invoke, 5, 0.0, 5.0, [server.pid])  # imports and first calls: not measured
            kinds = {
                "direct": (fake_port, direct_requests(fake_port)[0]),
                "GET /api/me": (port, floor_requests(port, tokens)[0]),
                "invoke": (port, invoke[0]),
            }
            print(f"{'request':<12} {'idle before':>11} {'p50 ms':>7} {'min ms':>7}")
            for name, (target, request) in kinds.items():
                with socket.create_connection(("127.0.0.1", target)) as sock:
                    for gap in GAPS:
                        times = []
                        for _ in range(200 if gap == 0 else args.samples):
                            time.sleep(gap)
                            times.append(timed_request(sock, request))
                        times.sort()
                        print(f"{name:<12} {gap * 1000:>9.0f}ms {times[len(times) // 2]:>7.2f} {times[0]:>7.2f}")
    finally:
        stop(server, fake)


if __name__ == "__main__":
    main()
