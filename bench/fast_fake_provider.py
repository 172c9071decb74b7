"""A fast fake OpenAI Chat Completions server for benchmarks: one fixed non-streamed answer with usage.

An asyncio protocol on a raw socket (HTTP/1.1 keep-alive, Content-Length bodies only), so that it costs a few tens of
microseconds per request and is never what a benchmark measures. Both the direct and the through-Switchboard calls of
bench/overhead.py go to the same instance.

    python bench/fast_fake_provider.py [--port 0] [--latency-ms 0]    # prints "PORT <n>" once it listens

With --latency-ms, each answer leaves that long after its request arrived (a model's generation time), without
holding the connection's other requests back beyond it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

ANSWER = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1764300000,
        "model": "gpt-bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "A short summary of the text."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 8, "total_tokens": 128},
    }
).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(ANSWER)).encode()
    + b"\r\n\r\n"
    + ANSWER
)


class FakeChatProtocol(asyncio.Protocol):
    """Answers every complete request on the connection with RESPONSE, in order, after `latency` seconds."""

    latency = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport and start with an empty buffer."""
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        """Parse as many whole requests as the buffer holds and answer each."""
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = content_length(self.buffer[:head_end])
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            self.buffer = self.buffer[end:]
            if self.latency:
                asyncio.get_running_loop().call_later(self.latency, self.answer)
            else:
                self.answer()

    def answer(self) -> None:
        """Send one answer, unless the client has gone."""
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)


def content_length(head: bytes) -> int:
    """The Content-Length of a request head (0 without one)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def serve(port: int) -> None:
    """Listen on 127.0.0.1 and serve until killed."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeChatProtocol, "127.0.0.1", port, backlog=1024)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def main() -> None:
    """Run the server."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="time from request to answer")
    args = parser.parse_args()
    FakeChatProtocol.latency = args.latency_ms / 1000
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
