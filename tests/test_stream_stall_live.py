"""A client that stops reading mid-stream but keeps its socket open, against gunicorn's gevent worker (the production
command line): once it has taken nothing for SWITCHBOARD_CLIENT_SEND_TIMEOUT_SECONDS, the response ends as if it had
left: the provider call is cancelled, the partial answer metered, the hold settled, the gauge back to zero, and the
log says why without a server fault or a word of the document."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import uuid
from contextlib import ExitStack

import pytest

from tests.fakes import FakeAnthropic, FakeOpenAI, Fault
from tests.fakes.common import Handler
from tests.fakes.entra import FakeEntra, new_rsa_key
from tests.fakes.harness import TEST_KEY, write_two_providers
from tests.live_server import SIGNING_KID, LiveServer, signed_token

pytestmark = pytest.mark.slow
DOCUMENT = "Quarterly figures, confidential."
# 1,024 tokens (the skill's max_output_tokens) of 1,000 characters, one every 5 ms (a fast model): 5 s and 1 MB of
# events if nobody stopped it, many times what the stalled connection's buffers hold. At that pace the bridge's buffer
# (64 chunks) is full well before the send timeout ends the stream: the cancellation finds the pump waiting for room,
# not reading from the provider, and the provider's HTTP response must still be closed at once, with no garbage
# collection (providers/stream_responses.py).
TOKENS = 1024
TOKEN_PACE = 0.005
LONG_REPLY = " ".join(f"{n:04d}" + "x" * 996 for n in range(TOKENS))
SEND_TIMEOUT = 1.0


def open_stalling_stream(base: str, token: str) -> socket.socket:
    """A raw socket with tiny receive buffers that sends a streaming invoke, reads until the first delta and then
    reads no more (it stays open). A small SO_RCVBUF keeps the client's window small; a small MSS keeps the server's
    send buffer from growing to megabytes as it does on loopback, so a few tens of KB fill the path."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"input": {"text": DOCUMENT}}).encode()
    head = (
        f"POST /api/skills/summarize/invoke HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.settimeout(10)
    sock.connect((host, int(port)))
    sock.sendall(head.encode() + body)
    received = b""
    while b"event: delta" not in received:
        data = sock.recv(1024)
        assert data, received
        received += data
    assert received.startswith(b"HTTP/1.1 200")
    return sock


def rest_of(sock: socket.socket) -> bytes:
    """Everything the server still delivers until it ends the connection (closed or reset)."""
    received = b""
    try:
        while data := sock.recv(65536):
            received += data
    except ConnectionResetError:
        pass
    return received


def wait_for_row(path, query: str, seconds: float) -> tuple:
    """The first row of a query on the server's SQLite database, polled until there is one (another process writes
    it: nothing here can wait on an event of that process)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        database = sqlite3.connect(path)
        try:
            row = database.execute(query).fetchone()
        finally:
            database.close()
        if row is not None:
            return row
        time.sleep(0.1)
    raise AssertionError(f"no row for {query!r} within {seconds} s")


def test_a_client_that_stops_reading_is_cut_off_and_its_call_cancelled_and_accounted(tmp_path, monkeypatch):
    sent = 0
    provider_cut = threading.Event()  # the provider's connection was closed by Switchboard mid-answer
    send_token = Handler.send_event

    def recording_send(self, data, event=None):
        nonlocal sent
        try:
            send_token(self, data, event)
        except OSError:
            provider_cut.set()
            raise
        sent += 1

    monkeypatch.setattr(Handler, "send_event", recording_send)
    monkeypatch.setenv("TEST_FAKE_KEY", TEST_KEY)
    key = new_rsa_key()
    with FakeEntra() as entra, FakeOpenAI(api_key=TEST_KEY) as openai, FakeAnthropic() as claude, ExitStack() as stack:
        entra.publish(key, SIGNING_KID)
        providers = write_two_providers(tmp_path / "providers.yaml", openai, claude, cheap_output=1024)
        server = LiveServer.start(
            tmp_path,
            entra.base_url,
            worker_class="gevent",
            PROVIDERS_FILE=str(providers),
            CLIENT_SEND_TIMEOUT_SECONDS=str(SEND_TIMEOUT),
        )
        try:
            token = signed_token(entra.base_url, key, str(uuid.uuid4()))
            openai.script(reply=LONG_REPLY, fault=Fault.slow(TOKEN_PACE))
            log_start = server.log_size()
            sock = stack.enter_context(open_stalling_stream(server.base, token))

            outcome, model, output_tokens, cost = wait_for_row(
                tmp_path / "live.sqlite", "SELECT outcome, model, output_tokens, cost_usd FROM skill_runs", 15
            )
            assert (outcome, model) == ("cancelled", "gpt-test") and output_tokens > 0 and float(cost) > 0
            assert provider_cut.wait(5), "the provider's connection stayed open"
            assert sent < TOKENS  # the provider was stopped mid-answer, not read to its end

            settled = (
                "SELECT MIN(spent_micros) FROM budget_counters HAVING SUM(reserved_0_micros + reserved_1_micros) = 0"
            )
            assert wait_for_row(tmp_path / "live.sqlite", settled, 5)[0] > 0  # the hold settled at the metered cost

            rest = rest_of(sock)  # the server ended the response: the socket reaches its end, without `done`
            assert b"event: done" not in rest

            metrics = server.request("GET", "/metrics").body.decode()
            gauge = [line for line in metrics.splitlines() if line.startswith("switchboard_streams_open")]
            assert gauge and all(float(line.split()[-1]) == 0 for line in gauge), gauge
            lines = server.log_lines(log_start)
            assert not [line for line in lines if '"ERROR"' in line or "Traceback" in line], lines
            assert [line for line in lines if "the client took nothing for 1.0 s" in line], lines
            assert not [line for line in lines if "Quarterly" in line or "xxxxxxxx" in line]
        finally:
            server.stop()
