"""A client that closes its socket mid-stream, against gunicorn's gevent worker (the production command line): the
provider call stops at once, the partial answer is metered, the hold settled, the gauge back to zero, nothing logged
as a server fault, and the model still the first choice (its circuit not blamed)."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import uuid

import pytest

from tests.fakes import FakeAnthropic, FakeOpenAI, Fault
from tests.fakes.common import Handler
from tests.fakes.entra import FakeEntra, new_rsa_key
from tests.fakes.harness import TEST_KEY, write_two_providers
from tests.live_server import SIGNING_KID, LiveServer, signed_token

pytestmark = pytest.mark.slow
LONG_REPLY = " ".join(f"word{n}" for n in range(400))  # 400 tokens at 0.05 s: 20 s if nobody stopped it


def open_stream(base: str, token: str) -> socket.socket:
    """A raw socket that has sent a streaming invoke and read until the first delta."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"input": {"text": "Quarterly figures, confidential."}}).encode()
    head = (
        f"POST /api/skills/summarize/invoke HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head.encode() + body)
    received = b""
    while b"event: delta" not in received:
        data = sock.recv(4096)
        assert data, received
        received += data
    assert received.startswith(b"HTTP/1.1 200")
    return sock


def test_a_client_closing_mid_stream_stops_the_call_and_is_accounted(tmp_path, monkeypatch):
    sent_at: list[float] = []
    send_token = Handler.send_event

    def recording_send(self, data, event=None):
        send_token(self, data, event)
        sent_at.append(time.monotonic())

    monkeypatch.setattr(Handler, "send_event", recording_send)
    monkeypatch.setenv("TEST_FAKE_KEY", TEST_KEY)
    key = new_rsa_key()
    with FakeEntra() as entra, FakeOpenAI(api_key=TEST_KEY) as openai, FakeAnthropic() as claude:
        entra.publish(key, SIGNING_KID)
        providers = write_two_providers(tmp_path / "providers.yaml", openai, claude, cheap_output=1024)
        server = LiveServer.start(tmp_path, entra.base_url, worker_class="gevent", PROVIDERS_FILE=str(providers))
        try:
            token = signed_token(entra.base_url, key, str(uuid.uuid4()))
            openai.script(reply=LONG_REPLY, fault=Fault.slow(0.05))
            log_start = server.log_size()
            sock = open_stream(server.base, token)
            sock.close()
            closed_at = time.monotonic()
            time.sleep(2)
            assert sent_at[-1] - closed_at < 1.0  # the provider stopped being read, and its request was closed
            assert len(sent_at) < 100

            database = sqlite3.connect(tmp_path / "live.sqlite")
            outcome, model, output_tokens, cost = database.execute(
                "SELECT outcome, model, output_tokens, cost_usd FROM skill_runs"
            ).fetchone()
            assert (outcome, model) == ("cancelled", "gpt-test") and 0 < output_tokens < 100 and float(cost) > 0
            reserved = database.execute("SELECT SUM(reserved_0_micros + reserved_1_micros) FROM budget_counters")
            assert reserved.fetchone()[0] == 0
            spent = database.execute("SELECT MIN(spent_micros) FROM budget_counters").fetchone()[0]
            assert spent > 0
            database.close()

            metrics = server.request("GET", "/metrics").body.decode()
            gauge = [line for line in metrics.splitlines() if line.startswith("switchboard_streams_open")]
            assert gauge and all(float(line.split()[-1]) == 0 for line in gauge), gauge
            lines = server.log_lines(log_start)
            assert not [line for line in lines if '"ERROR"' in line or "Traceback" in line], lines

            openai.script(reply="Short answer.")  # the next call goes to the same model: its circuit is closed
            reply = server.request(
                "POST",
                "/api/skills/summarize/invoke",
                json.dumps({"input": {"text": "More figures."}}).encode(),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            assert reply.status == 200 and reply.json()["model"]["model"] == "gpt-test"
        finally:
            server.stop()
