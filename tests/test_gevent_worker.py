"""The gevent worker's direct first send: every byte arrives, in order, whether the kernel takes a write whole or not.

Run in a subprocess: gevent's sockets need its hub, and the test process must not be monkeypatched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import gevent
from gevent import socket
from backend.gevent_worker import DirectSendSocket

left, right = socket.socketpair()
left.__class__ = DirectSendSocket
left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # small: a large write cannot go out in one send

small = b"event: token\\ndata: {}\\n\\n"
big = bytes(range(256)) * 20000  # 5 MB
received = bytearray()

def reader():
    while len(received) < len(small) + len(big):
        data = right.recv(65536)
        if not data:
            break
        received.extend(data)
        gevent.sleep(0.001)  # a slow reader: the writer must wait cooperatively, not fail or drop bytes

task = gevent.spawn(reader)
left.sendall(small)
left.sendall(big)
task.join(timeout=30)
assert bytes(received) == small + big, (len(received), len(small) + len(big))
print("ok")
"""


def test_direct_send_delivers_small_and_partial_writes_whole_and_in_order():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


STALL_CHECK = """
import time
import gevent
from gevent import socket
from backend.gevent_worker import ClientStalled, DirectSendSocket

DirectSendSocket.send_timeout = 0.3
left, right = socket.socketpair()
left.__class__ = DirectSendSocket
left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
right.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
big = b"x" * 1_000_000
received = bytearray()

def slow_reader():
    while len(received) < len(big):
        gevent.sleep(0.1)  # well within the timeout each time, though the whole write takes far longer
        received.extend(right.recv(65536))

task = gevent.spawn(slow_reader)
started = time.monotonic()
left.sendall(big)
task.join(timeout=30)
assert bytes(received) == big and time.monotonic() - started > 1.0
started = time.monotonic()
try:
    left.sendall(big)  # nobody reads any more
except ClientStalled:
    print("stalled after", round(time.monotonic() - started, 1))
"""


def test_a_write_the_client_takes_nothing_of_ends_after_the_send_timeout_a_slow_reader_never_does():
    result = subprocess.run([sys.executable, "-c", STALL_CHECK], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stalled after 0.3"


def test_switchboard_run_selects_the_worker():
    from backend.cli.serve import gunicorn_argv

    argv = gunicorn_argv("127.0.0.1", 8000, None, "gevent", None)
    assert argv[argv.index("--worker-class") + 1] == "backend.gevent_worker.SwitchboardGeventWorker"
    argv = gunicorn_argv("127.0.0.1", 8000, None, "gthread", None)
    assert argv[argv.index("--worker-class") + 1] == "gthread"


class RecordingSocket:
    """What a response writes, call by call (sendfile recorded as the file's bytes)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def sendfile(self, file, offset: int = 0, count: int | None = None) -> None:
        file.seek(offset)
        self.writes.append(file.read(count))

    def fileno(self) -> int:
        return -1


class PlainRequest:
    """The parts of a parsed gunicorn request a response reads."""

    version = (1, 1)
    headers: list = []

    def __init__(self, method: str = "GET") -> None:
        self.method = method

    def should_close(self) -> bool:
        return False


def respond(response_class, method: str, status: str, headers: list, body: list[bytes] | None = None, file=None):
    """Run one response through response_class on a recording socket; return the writes."""
    from gunicorn.config import Config
    from gunicorn.http.wsgi import FileWrapper

    sock = RecordingSocket()
    response = response_class(PlainRequest(method), sock, Config())
    response.start_response(status, headers)
    if file is not None:
        response.write_file(FileWrapper(file))
    for chunk in body or []:
        response.write(chunk)
    response.close()
    return sock.writes


RESPONSES = {
    "json": ("POST", "200 OK", [("Content-Type", "application/json"), ("Content-Length", "11")], [b'{"ok":true}']),
    "chunked stream": ("POST", "200 OK", [("Content-Type", "text/event-stream")], [b"data: 1\n\n", b"data: 2\n\n"]),
    "no content": ("DELETE", "204 No Content", [], []),
    "head": ("HEAD", "200 OK", [("Content-Length", "5")], [b"hello"]),
    "head first, then a stream": ("GET", "200 OK", [("Content-Type", "text/event-stream")], [b"", b"data: 1\n\n"]),
}


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_head_goes_with_the_first_body_bytes_and_the_bytes_are_gunicorns(name):
    from gunicorn.http.wsgi import Response

    from backend.gevent_worker import HeadWithBodyResponse

    method, status, headers, body = RESPONSES[name]
    theirs = respond(Response, method, status, headers, body)
    ours = respond(HeadWithBodyResponse, method, status, headers, body)
    assert b"".join(ours) == b"".join(theirs)
    assert ours[0].startswith(b"HTTP/1.1 ")
    if body and not body[0]:
        assert ours == theirs  # an empty first write sends the head at once, as gunicorn does
    elif body and method != "HEAD":
        assert len(ours) == len(theirs) - 1  # the head travelled with the first body bytes
        assert ours[0].endswith(body[0] + (b"\r\n" if name == "chunked stream" else b""))
    else:
        assert len(ours) == 1  # the head alone (and a chunked terminator, if any) in one write


def test_a_file_response_sends_the_head_before_the_file(tmp_path):
    from gunicorn.http.wsgi import Response

    from backend.gevent_worker import HeadWithBodyResponse

    path = tmp_path / "addin.js"
    path.write_bytes(b"console.log('x');\n" * 100)
    headers = [("Content-Type", "text/javascript"), ("Content-Length", str(path.stat().st_size))]
    with path.open("rb") as theirs_file, path.open("rb") as ours_file:
        theirs = respond(Response, "GET", "200 OK", headers, file=theirs_file)
        ours = respond(HeadWithBodyResponse, "GET", "200 OK", headers, file=ours_file)
    assert b"".join(ours) == b"".join(theirs)
    assert ours[0].startswith(b"HTTP/1.1 200 OK") and ours[-1] == path.read_bytes()
