"""A fast fake OpenAI Chat Completions server for benchmarks: one fixed answer with usage, or a paced SSE stream.

An asyncio protocol on a raw socket (HTTP/1.1 keep-alive, Content-Length bodies only), so that it costs a few tens of
microseconds per request and is never what a benchmark measures. Both the direct and the through-Switchboard calls of
bench/overhead.py go to the same instance.

    python bench/fast_fake_provider.py [--port 0] [--latency-ms 0] [--stream-tokens 400] [--stream-interval-ms 50]
                                                                    # prints "PORT <n>" once it listens

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


STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
_DELTA = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1764300000, "model": "gpt-bench"}
STREAM_CHUNK = b"data: " + json.dumps({**_DELTA, "choices": [{"index": 0, "delta": {"content": " word"}}]}).encode()
STREAM_CHUNK += b"\n\n"


def stream_end(tokens: int) -> bytes:
    """The last events of a streamed answer of `tokens` chunks: finish reason, usage, [DONE]."""
    usage = {"prompt_tokens": 120, "completion_tokens": tokens}
    return (
        b"data: "
        + json.dumps({**_DELTA, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).encode()
        + b"\n\ndata: "
        + json.dumps({**_DELTA, "choices": [], "usage": usage}).encode()
        + b"\n\ndata: [DONE]\n\n"
    )


def chunked(data: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return b"%X\r\n%s\r\n" % (len(data), data)


class FakeChatProtocol(asyncio.Protocol):
    """Answers every complete request on the connection with RESPONSE, in order, after `latency` seconds; a request
    with `"stream": true` gets a streamed answer instead."""

    latency = 0.0
    stream_tokens = 400
    stream_interval = 0.05

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
            body, self.buffer = self.buffer[head_end + 4 : end], self.buffer[end:]
            if b'"stream":true' in body.replace(b" ", b""):
                self.stream_answer()
            elif self.latency:
                asyncio.get_running_loop().call_later(self.latency, self.answer)
            else:
                self.answer()

    def answer(self) -> None:
        """Send one answer, unless the client has gone."""
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)

    def stream_answer(self) -> None:
        """A streamed answer: `stream_tokens` SSE chunks on a fixed schedule, then usage and [DONE] (one at a time
        per connection, as the OpenAI SDK sends them)."""
        self.transport.write(STREAM_HEAD)
        loop = asyncio.get_running_loop()
        started = loop.time()

        def send(index: int) -> None:
            if self.transport.is_closing():
                return
            if index < self.stream_tokens:
                self.transport.write(chunked(STREAM_CHUNK))
                loop.call_at(started + (index + 1) * self.stream_interval, send, index + 1)
            else:
                self.transport.write(chunked(stream_end(self.stream_tokens)) + b"0\r\n\r\n")

        loop.call_at(started + self.stream_interval, send, 0)


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
    parser.add_argument("--stream-tokens", type=int, default=400, help="chunks of a streamed answer")
    parser.add_argument("--stream-interval-ms", type=float, default=50.0, help="time between streamed chunks")
    args = parser.parse_args()
    FakeChatProtocol.latency = args.latency_ms / 1000
    FakeChatProtocol.stream_tokens = args.stream_tokens
    FakeChatProtocol.stream_interval = args.stream_interval_ms / 1000
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
