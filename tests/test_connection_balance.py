"""Keep-alive connections spread over gunicorn's gevent workers (backend/connection_balance.py)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from backend.connection_balance import FREE, MARGIN, ConnectionBalance
from tests.fakes.entra import FakeEntra
from tests.live_server import LiveServer, worker_pids


def test_slots_are_claimed_and_released_by_the_master():
    balance = ConnectionBalance(slots=3)
    assert [balance.claim_slot([]), balance.claim_slot([0]), balance.claim_slot([0, 1])] == [0, 1, 2]
    assert balance.claim_slot([0, 1, 2]) is None  # more workers than slots: that one is not balanced
    balance.release_slot(1)
    assert list(balance.counts) == [0, FREE, 0]
    assert balance.claim_slot([0, 2, None]) == 1


def test_a_worker_steps_back_only_above_the_least_loaded_live_worker_plus_the_margin():
    balance = ConnectionBalance(slots=3)
    for taken in ([], [0]):
        balance.claim_slot(taken)
    assert not balance.over_share(0)
    for _ in range(MARGIN + 1):
        balance.opened(0)
    assert balance.over_share(0) and not balance.over_share(1)
    balance.closed(0)
    assert not balance.over_share(0)
    balance.opened(0)
    balance.release_slot(1)  # the other worker exited: nobody to leave the connection to
    assert not balance.over_share(0)


def connections_by_worker(workers: set[int], port: int, client_ports: set[int]) -> dict[int, int]:
    """How many of these client connections to the server's port each worker process holds (from /proc)."""
    inodes: dict[str, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port = (int(address.split(":")[1], 16) for address in fields[1:3])
        if local_port == port and remote_port in client_ports and fields[3] == "01":  # 01: established
            inodes[fields[9]] = remote_port
    held = dict.fromkeys(workers, 0)
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held[pid] += 1
    return held


def request_on(connection: socket.socket) -> bytes:
    """One GET /api/me on an open connection (a 401: the cheapest route that runs the app); its status line."""
    connection.sendall(b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += connection.recv(65536)
    head, _, body = reply.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head.split(b"\r\n")[0]


def wait_until_both_workers_accept(workers: set[int], port: int, seconds: float = 90) -> None:
    """Hold connections open until each worker has one: a worker still loading the app accepts nothing yet."""
    held: list[socket.socket] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            connection = socket.create_connection(("127.0.0.1", port))
            request_on(connection)
            held.append(connection)
            if all(connections_by_worker(workers, port, {c.getsockname()[1] for c in held}).values()):
                return
            time.sleep(0.1)
        raise AssertionError("a worker never accepted a connection")
    finally:
        for connection in held:
            connection.close()


@pytest.mark.slow
def test_new_connections_go_to_the_worker_holding_fewer(tmp_path):
    connections: list[socket.socket] = []
    with FakeEntra() as entra:
        server = LiveServer.start(tmp_path, entra.base_url, worker_class="gevent")
        try:
            workers = set(worker_pids(server.process.pid))
            assert len(workers) == 2
            port = int(server.base.rsplit(":", 1)[1])
            wait_until_both_workers_accept(workers, port)
            busy, idle = sorted(workers)
            os.kill(idle, signal.SIGSTOP)  # meanwhile the other takes every connection, and keeps them (keep-alive)
            try:
                connections += [open_and_serve(port) for _ in range(10)]
            finally:
                os.kill(idle, signal.SIGCONT)
            assert connections_by_worker(workers, port, ports_of(connections)) == {busy: 10, idle: 0}
            # Both workers are awake now; each new connection is served before the next opens. The worker holding
            # ten steps back, so the new ones go to the other.
            fresh = [open_and_serve(port) for _ in range(20)]
            connections += fresh
            held = connections_by_worker(workers, port, ports_of(fresh))
            assert held[idle] >= 14, held  # without the balance: 3-7 of 10 in four runs
        finally:
            for connection in connections:
                connection.close()
            server.stop()


def open_and_serve(port: int) -> socket.socket:
    """A new keep-alive connection that has been served one request."""
    connection = socket.create_connection(("127.0.0.1", port))
    assert request_on(connection).startswith(b"HTTP/1.1 401")
    return connection


def ports_of(connections: list[socket.socket]) -> set[int]:
    """The client-side ports of these connections."""
    return {connection.getsockname()[1] for connection in connections}
