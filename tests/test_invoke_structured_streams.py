"""The SSE stream of a skill answered in one piece (structured or `streaming: false`: proofread here): keepalives
while each call, the repair call too, waits for its model; a failure after a keepalive is an `error` event; a client
that leaves cancels the call in flight, which is recorded as cancelled with its hold settled."""

from __future__ import annotations

import json
import select
import socket
import sqlite3
import threading
import time
import uuid

import pytest
from sqlalchemy import select as select_rows

from backend import create_app
from backend.extensions import db
from backend.metering.budgets import budgets_for
from backend.models import SkillRun
from tests.auth_fixtures import TENANT_A, bearer, entra, entra_app_config, make_token, signing_key, tenants  # noqa: F401
from tests.fakes import FakeAnthropic, FakeOpenAI, Fault
from tests.fakes.common import Handler
from tests.fakes.entra import FakeEntra, new_rsa_key
from tests.fakes.harness import TEST_KEY, write_two_providers
from tests.live_server import SIGNING_KID, LiveServer, signed_token
from tests.test_invoke import SECRET_TEXT, providers_config, servers, sse_events, user  # noqa: F401

INVALID = "Sure! Here are the edits: none"  # not JSON: proofread makes one repair call
EDITS = json.dumps({"edits": [{"original": "acquisition", "replacement": "acquisition's", "reason": "possessive"}]})


@pytest.fixture
def app_config(app_config, entra, servers, tmp_path, monkeypatch):  # noqa: F811
    """The loopback-Entra configuration plus a providers file naming both fakes."""
    return providers_config(app_config, entra, servers, tmp_path, monkeypatch)


def open_proofread(client, headers):
    """A streamed proofread run whose body is read chunk by chunk, as the WSGI server reads it."""
    payload = {"input": {"text": SECRET_TEXT}}
    headers = {**headers, "Accept": "text/event-stream"}
    return client.post("/api/skills/proofread/invoke", json=payload, headers=headers, buffered=False)


def test_keepalives_flow_while_the_call_and_its_repair_wait_then_the_answer(app_config, user, servers):  # noqa: F811
    """Each call stalls five keepalive periods: the client still gets something every period, the repair included."""
    openai, _ = servers
    openai.script(reply=INVALID, fault=Fault.stall(1.0))
    openai.script(reply=EDITS, fault=Fault.stall(1.0))
    client = create_app({**app_config, "STREAM_KEEPALIVE_SECONDS": 0.2}).test_client()
    response = open_proofread(client, user)
    assert response.status_code == 200
    written: list[tuple[float, bytes]] = [(time.monotonic(), chunk) for chunk in response.response]
    body = b"".join(chunk for _, chunk in written)
    assert body.startswith(b": keepalive\n\n") and body.count(b": keepalive") >= 6
    events = sse_events(body)
    assert [name for name, _ in events] == ["meta", "done"]
    edits = events[-1][1]["output"]["edits"]
    assert edits[0]["original"] == "acquisition" and events[-1][1]["model"]["provider"] == "cheap"
    assert events[0][1]["run_id"] and len(openai.requests) == 2
    gaps = [later - earlier for (earlier, _), (later, _) in zip(written, written[1:], strict=False)]
    assert max(gaps) < 0.6, gaps  # a repair waited for without keepalives would leave a gap of 1 s


def test_every_model_failing_after_a_keepalive_is_an_error_event_with_its_attempts(app_config, user, servers, tmp_path):  # noqa: F811
    """Both models time out (total timeout 0.5 s) after a keepalive went out: all_models_failed is the `error` event,
    with the attempts its HTTP error would have carried."""
    openai, claude = servers
    providers = write_two_providers(tmp_path / "quick.yaml", openai, claude, cheap_output=4096, claude_output=4096)
    providers.write_text(providers.read_text().replace("total: 10", "total: 0.5"))
    config = {**app_config, "PROVIDERS_FILE": str(providers), "STREAM_KEEPALIVE_SECONDS": 0.1}
    openai.script(reply=EDITS, fault=Fault.stall(3))
    claude.script(reply=EDITS, fault=Fault.stall(3))
    response = open_proofread(create_app(config).test_client(), user)
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b": keepalive\n\n")
    events = sse_events(body)
    assert [name for name, _ in events] == ["error"]
    error = events[0][1]
    assert error["code"] == "all_models_failed" and SECRET_TEXT not in body.decode()
    assert [a["model"] for a in error["details"]["attempts"]] == ["cheap/gpt-test", "claude/claude-test"]


def test_an_answer_invalid_after_its_repair_and_a_keepalive_is_an_error_event(app_config, user, servers):  # noqa: F811
    """The repair call fails validation too, after keepalives went out: invalid_model_output is the `error` event."""
    openai, _ = servers
    openai.script(reply=INVALID, fault=Fault.stall(0.3))
    openai.script(reply=INVALID, fault=Fault.stall(0.3))
    client = create_app({**app_config, "STREAM_KEEPALIVE_SECONDS": 0.1}).test_client()
    response = open_proofread(client, user)
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b": keepalive\n\n")
    events = sse_events(body)
    assert [name for name, _ in events] == ["error"] and events[0][1]["code"] == "invalid_model_output"
    assert events[0][1]["details"]["problem"] and SECRET_TEXT not in body.decode()
    assert len(openai.requests) == 2


@pytest.fixture
def stalling(monkeypatch) -> threading.Event:
    """Set once a fake starts stalling an answer; the stall ends early, setting the fake's `client_left`, when the
    client closes its connection meanwhile (a request is sent whole before its answer: anything readable during the
    stall is the end of the connection)."""
    started = threading.Event()

    def pause_watching_the_client(handler: Handler, seconds: float) -> bool:
        started.set()
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not handler.fake.stopping.is_set():
            readable, _, _ = select.select([handler.connection], [], [], min(left, 0.05))
            if readable and not handler.connection.recv(1, socket.MSG_PEEK):
                handler.fake.client_left.set()
                return False
        return not handler.fake.stopping.is_set()

    monkeypatch.setattr(Handler, "pause", pause_watching_the_client)
    return started


def test_a_client_leaving_during_the_wait_cancels_the_call_and_settles_its_hold(app_config, user, servers, stalling):  # noqa: F811
    openai, claude = servers
    openai.script(reply=EDITS, fault=Fault.stall(8))
    app = create_app({**app_config, "STREAM_KEEPALIVE_SECONDS": 0.2})
    response = open_proofread(app.test_client(), user)
    body = iter(response.response)
    assert next(body) == b": keepalive\n\n"
    assert stalling.wait(30)  # the provider call is in flight (a process's first call first imports the SDKs)
    response.close()  # what the WSGI server does when the client has gone
    assert openai.client_left.wait(3)  # the provider's connection closed: the call was cancelled, not waited for
    assert not claude.requests  # a cancelled call is no failure to fall back from
    with app.app_context():
        run = db.session.scalars(select_rows(SkillRun)).one()
        assert (run.skill_id, run.outcome, run.error_code, run.model) == ("proofread", "cancelled", "cancelled", None)
        assert run.cost_usd == 0
        usage = budgets_for(app).usage(run.tenant_id)
        assert usage["reserved_usd"] == 0 and usage["spent_usd"] == 0


@pytest.mark.slow
def test_a_client_closing_its_socket_cancels_the_call_against_the_gevent_worker(tmp_path, monkeypatch, stalling):
    """The production command line: the worker notices the closed socket at the next keepalive and closes the body,
    which cancels the provider call; the run is cancelled, its hold settled, nothing logged as a server fault."""
    monkeypatch.setenv("TEST_FAKE_KEY", TEST_KEY)
    key = new_rsa_key()
    with FakeEntra() as entra, FakeOpenAI(api_key=TEST_KEY) as openai, FakeAnthropic() as claude:
        entra.publish(key, SIGNING_KID)
        providers = write_two_providers(tmp_path / "p.yaml", openai, claude, cheap_output=4096, claude_output=4096)
        server = LiveServer.start(tmp_path, entra.base_url, worker_class="gevent", PROVIDERS_FILE=str(providers),
                                  STREAM_KEEPALIVE_SECONDS="0.2")  # fmt: skip
        try:
            openai.script(reply=EDITS, fault=Fault.stall(20))
            log_start = server.log_size()
            sock = open_raw_stream(server.base, signed_token(entra.base_url, key, str(uuid.uuid4())))
            assert stalling.wait(30)
            sock.close()
            assert openai.client_left.wait(5)
            assert not claude.requests
            database = sqlite3.connect(tmp_path / "live.sqlite")
            outcome, error_code = database.execute("SELECT outcome, error_code FROM skill_runs").fetchone()
            assert (outcome, error_code) == ("cancelled", "cancelled")
            reserved = database.execute("SELECT SUM(reserved_0_micros + reserved_1_micros) FROM budget_counters")
            assert reserved.fetchone()[0] == 0
            database.close()
            lines = server.log_lines(log_start)
            assert not [line for line in lines if '"ERROR"' in line or "Traceback" in line], lines
        finally:
            server.stop()


def open_raw_stream(base: str, token: str) -> socket.socket:
    """A raw socket that has sent a streamed proofread invoke and read its head and a first keepalive."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"input": {"text": "Quarterly figures, confidential."}}).encode()
    head = (
        f"POST /api/skills/proofread/invoke HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(head.encode() + body)
    received = b""
    while b": keepalive" not in received:
        data = sock.recv(4096)
        assert data, received
        received += data
    assert received.startswith(b"HTTP/1.1 200")
    return sock
