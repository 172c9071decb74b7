"""`switchboard run`: real gunicorn, real sockets: incremental SSE, disconnects, multi-worker metrics, shutdown."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fakes.common import free_port
from tests.live_server import worker_pids

pytestmark = pytest.mark.slow  # each server takes a few seconds to boot its workers
SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


def http_get(url: str) -> tuple[int, str]:
    """Status and body of a GET, error statuses included; the connection is always closed."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def wait_until(condition, seconds: float = 20.0, message: str = "condition not reached"):
    """Poll until condition() is truthy, returning its value, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(message)


def start_server(tmp: Path, *options: str, diagnostics: bool = True) -> tuple[subprocess.Popen, str]:
    """Start `switchboard run` on a free port and wait until it answers."""
    port = free_port()
    env = {**os.environ, "SWITCHBOARD_INSTANCE_PATH": str(tmp / "instance"), "PROMETHEUS_MULTIPROC_DIR": str(tmp)}
    env["SWITCHBOARD_ENABLE_DIAGNOSTICS"] = "true" if diagnostics else "false"
    command = [SWITCHBOARD, "run", "--port", str(port), "--workers", "2", *options]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return http_get(f"{base}/api/openapi.json")[0] == 200
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()
            return False

    wait_until(answers, 120, "the server did not start")
    return server, base


def stop(server: subprocess.Popen, how: int = signal.SIGTERM) -> int:
    """Signal the server and wait for it to exit."""
    server.send_signal(how)
    try:
        return server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
        server.stderr.close()


def metric(base: str, name: str, labels: str = "") -> float:
    """One sample of the server's /metrics (all workers aggregated), 0 if absent."""
    text = http_get(f"{base}/metrics")[1]
    match = re.search(rf"^{re.escape(name + labels)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def open_stream(base: str, tokens: int, interval_ms: int) -> socket.socket:
    """A raw HTTP/1.1 request for a diagnostic stream; the caller reads the socket."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    path = f"/api/_diagnostics/stream?tokens={tokens}&interval_ms={interval_ms}"
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
    return sock


def read_token_events(sock: socket.socket, count: int) -> list[tuple[float, dict]]:
    """Read until `count` token events arrived; each with the moment it was received."""
    received: list[tuple[float, dict]] = []
    pending = b""
    while len(received) < count:
        data = sock.recv(65536)
        assert data, "the server closed the stream early"
        now = time.time()
        *events, pending = (pending + data).split(b"\n\n")
        for event in events:
            if b"event: token" in event:
                payload = event.split(b"data: ", 1)[1].split(b"\r\n")[0]
                received.append((now, json.loads(payload)))
    return received


@pytest.fixture(scope="module", params=["gthread", "gevent"])
def server(request, tmp_path_factory):
    """A running server per worker model."""
    tmp = tmp_path_factory.mktemp(f"serve-{request.param}")
    process, base = start_server(tmp, "--worker-class", request.param)
    yield base
    stop(process)


def test_events_arrive_as_they_are_produced(server):
    sock = open_stream(server, tokens=3, interval_ms=400)
    with sock:
        ((first_received, _),) = read_token_events(sock, 1)
        rest = read_token_events(sock, 2)
    # Causality, not a timing budget: token 0 was in our hands before the server even produced token 2.
    assert first_received * 1e6 < rest[-1][1]["sent_at_us"]
    assert rest[-1][1]["index"] == 2


def test_a_client_disconnect_cancels_the_generator(server):
    cancelled = '{outcome="cancelled"}'
    before = metric(server, "switchboard_diagnostics_streams_ended_total", cancelled)
    sockets = [open_stream(server, tokens=100_000, interval_ms=20) for _ in range(4)]
    for sock in sockets:
        read_token_events(sock, 2)
    # Four streams, likely on both workers: the gauge is the sum over worker processes.
    assert metric(server, "switchboard_streams_open") == 4
    for sock in sockets:
        sock.close()
    wait_until(
        lambda: metric(server, "switchboard_diagnostics_streams_ended_total", cancelled) == before + 4,
        message="the async generators were not cancelled after the clients left",
    )
    wait_until(lambda: metric(server, "switchboard_streams_open") == 0, message="STREAMS_OPEN did not return to 0")


def alive(pid: int) -> bool:
    """Whether a process exists (and is not a zombie)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_leaves_nothing_running_and_removes_the_metrics_dir(tmp_path, how):
    process, base = start_server(tmp_path, diagnostics=False)
    assert http_get(f"{base}/api/openapi.json")[0] == 200
    assert http_get(f"{base}/api/_diagnostics/stream?tokens=1")[0] == 404  # unauthenticated: off unless enabled
    metrics_dirs = [path for path in tmp_path.iterdir() if path.name.startswith("switchboard-metrics-")]
    assert len(metrics_dirs) == 1 and any(metrics_dirs[0].iterdir())
    workers = worker_pids(process.pid)
    assert len(workers) == 2
    assert stop(process, how) == 0
    assert not any(alive(pid) for pid in workers)
    assert not metrics_dirs[0].exists()


def json_line(line: str) -> bool:
    """Whether a line of output is one JSON object (the log format)."""
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_a_server_writes_only_json_lines_from_start_to_shutdown(tmp_path):
    """Workers freeze the loaded app out of the collector (gc.freeze): left frozen at exit, the logging handlers among
    it were finalised after gevent's modules were torn down, and every gevent worker's exit printed a plain-text
    `TypeError: 'NoneType' object is not callable` traceback into the JSON log stream."""
    process, _ = start_server(tmp_path, diagnostics=False)
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    assert sum("Worker exiting" in line for line in lines) == 2
    assert [line for line in lines if not json_line(line)] == []
