"""What both fake provider servers share: scripted replies, recorded requests and the threaded HTTP server."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.faults import Fault


@dataclass
class Scripted:
    """The answer to one request: a reply (None: the default reply) and an optional fault."""

    reply: str | None = None
    fault: Fault | None = None


@dataclass
class RecordedRequest:
    """One request as the fake received it, so tests can assert what was sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any = field(repr=False)


def split_tokens(text: str) -> list[str]:
    """Cut a reply into tokens the way the fakes stream and count them: one word plus its trailing space each."""
    return re.findall(r"\S+\s*|\s+", text)


def count_prompt_tokens(texts: list[str]) -> int:
    """The fakes' deterministic prompt token count: words in all message texts."""
    return sum(len(text.split()) for text in texts)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now (connections to it are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_port_url() -> str:
    """A loopback URL where nothing listens, for connection-refused tests."""
    return f"http://127.0.0.1:{free_port()}"


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port that accepts TCP connections and then never says a word (a hung server), while open."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


class FakeServer:
    """A small threaded HTTP server on 127.0.0.1 with a queue of scripted answers and a log of requests."""

    def __init__(self, default_reply: str | None = None, api_key: str | None = None):
        self.default_reply = default_reply  # None: echo-derived ("echo: <last user message>")
        self.api_key = api_key  # when set, requests carrying another key get 401
        self.requests: list[RecordedRequest] = []
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.client_left = threading.Event()  # a client closed its connection while an answer was being written
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- the test-facing API ------------------------------------------------------------------------------------
    def script(self, reply: str | None = None, fault: Fault | None = None, times: int = 1) -> None:
        """Queue the answer to the next `times` requests."""
        with self._lock:
            self._script.extend(Scripted(reply, fault) for _ in range(times))

    def fail_next(self, n: int, fault: Fault) -> None:
        """Make the next n requests fail with this fault."""
        self.script(fault=fault, times=n)

    @property
    def url(self) -> str:
        """The server's root URL."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request."""
        return self.requests[-1]

    def start(self) -> FakeServer:
        """Listen on a free loopback port and serve on a daemon thread."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled handlers wake up and give up."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- for subclasses -----------------------------------------------------------------------------------------
    def next_answer(self) -> Scripted:
        """Take the next scripted answer, or the default one."""
        with self._lock:
            return self._script.popleft() if self._script else Scripted()

    def reply_for(self, scripted: Scripted, last_user_text: str) -> str:
        """The reply text of a scripted answer."""
        if scripted.reply is not None:
            return scripted.reply
        return self.default_reply if self.default_reply is not None else f"echo: {last_user_text}"

    def handle(self, handler: Handler, request: RecordedRequest) -> None:
        """Answer one recorded request; subclasses speak their wire protocol here."""
        raise NotImplementedError

    def _handler_class(self) -> type[Handler]:
        """A handler class bound to this server."""
        return type("BoundHandler", (Handler,), {"fake": self})


class Handler(BaseHTTPRequestHandler):
    """Reads a request, records it, and offers JSON and chunked-SSE writers to the fake."""

    protocol_version = "HTTP/1.1"
    fake: FakeServer

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Record the request and let the fake answer it."""
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest("POST", parts.path, dict(parse_qsl(parts.query)), headers, body)
        self.fake.requests.append(request)
        try:
            self.fake.handle(self, request)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test): nothing left to say
            self.fake.client_left.set()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        """Stay quiet: tests read recorded requests instead of logs."""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """Send a complete JSON response."""
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_sse(self) -> None:
        """Send the headers of a chunked text/event-stream response."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def send_event(self, data: str, event: str | None = None) -> None:
        """Send one SSE event as one HTTP chunk."""
        text = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
        payload = text.encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def end_sse(self) -> None:
        """Send the last (empty) chunk."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop_connection(self) -> None:
        """Close the socket mid-body, as a crashing upstream would."""
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def pause(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False when it is."""
        return not self.fake.stopping.wait(seconds)
