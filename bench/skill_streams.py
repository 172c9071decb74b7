"""Concurrent streamed skill runs through the whole product path, next to bench/streams.py's serving-layer figure.

bench/streams.py measures the serving layer alone (the diagnostics endpoint makes its tokens on the server). Here
each stream is `POST /api/skills/summarize/invoke` with `Accept: text/event-stream` from a signed-in user: token check,
routing, rate limits, budget reserve, then the provider call through Semantic Kernel and the OpenAI SDK to
bench/fast_fake_provider.py, which streams a chunk every 50 ms for 20 s (5 s with --quick); each chunk goes through
the SDK's SSE parser, SK's message objects, the dispatcher, the stream sanitiser and the SSE writer, then metering.
Same load client and the same table as bench/streams.py (a `delta` event counts as a token).

    .venv/bin/python bench/skill_streams.py [--levels 100,300,500] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import prepared_instance, start_fake, start_switchboard, stop  # noqa: E402 - sibling benches
from streams import INTERVAL_MS, measure, print_table  # noqa: E402

BODY = json.dumps({"input": {"text": "The quarterly report shows revenue up eight percent. " * 8}}).encode()


def skill_requests(port: int, tokens: list[str]) -> list[bytes]:
    """One streamed skill run per user token (the load client cycles through them)."""
    return [
        (
            f"POST /api/skills/summarize/invoke HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\n\r\n"
        ).encode()
        + BODY
        for token in tokens
    ]


def main() -> None:
    """Start the fake and the server, run each level, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s streams instead of 20 s")
    parser.add_argument("--levels", default="100,300,500", help="concurrent streams per step, comma separated")
    parser.add_argument("--clients", type=int, default=2, help="load-generating processes")
    parser.add_argument("--users", type=int, default=50, help="distinct users the streams cycle through")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else 20.0
    tokens = int(seconds * 1000 / INTERVAL_MS)
    fake, fake_port = start_fake(0, "--stream-tokens", str(tokens), "--stream-interval-ms", str(INTERVAL_MS))
    server = None
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="sb-skill-streams-") as instance:
            options = argparse.Namespace(database_url=None, redis_url=None)
            env, user_tokens = prepared_instance(options, instance, fake_port, args.users)
            server, port = start_switchboard(env, [])
            requests = skill_requests(port, user_tokens)
            measure(port, server.pid, 20, 2.0, 1, requests, (b"event: delta", b"event: done"))  # imports, warm-up
            for streams in [int(level) for level in args.levels.split(",")]:
                row = measure(
                    port, server.pid, streams, seconds, args.clients, requests, (b"event: delta", b"event: done")
                )
                rows.append({"model": "skill stream", **row})
                print(f"  {streams} skill streams done", file=sys.stderr, flush=True)
    finally:
        stop(server, fake)
    print_table(rows, seconds, "chunk")


if __name__ == "__main__":
    main()
