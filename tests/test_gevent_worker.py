"""The gevent worker's direct first send: every byte arrives, in order, whether the kernel takes a write whole or not.

Run in a subprocess: gevent's sockets need its hub, and the test process must not be monkeypatched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_switchboard_run_selects_the_worker():
    from backend.cli.serve import gunicorn_argv

    argv = gunicorn_argv("127.0.0.1", 8000, None, "gevent", None)
    assert argv[argv.index("--worker-class") + 1] == "backend.gevent_worker.SwitchboardGeventWorker"
    argv = gunicorn_argv("127.0.0.1", 8000, None, "gthread", None)
    assert argv[argv.index("--worker-class") + 1] == "gthread"
