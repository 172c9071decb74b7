"""gunicorn's gevent worker, with one change: a response write tries the socket's own non-blocking send first.

gevent's `sendall` asks the kernel for the send buffer size (a `getsockopt` system call) and slices the data through
a Python loop on every call, even when the whole chunk fits at once, which for a streamed token it always does.
Measured with bench/streams.py at 1,000 streams (docs/serving.md), that was about 8% of a worker's CPU. Here the
chunk goes out with one `send`; only what the kernel did not take (a slow reader, a full buffer) goes through
gevent's `sendall`, which waits cooperatively as before. TLS sockets are left alone.
"""

from __future__ import annotations

from typing import Any

from gevent import socket as gevent_socket
from gunicorn.workers.ggevent import GeventWorker


class DirectSendSocket(gevent_socket.socket):
    """A gevent socket whose sendall starts with a plain non-blocking send."""

    __slots__ = ()

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send everything: one direct send, then gevent's cooperative sendall for any remainder."""
        try:
            sent = self._sock.send(data, flags)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            super().sendall(memoryview(data)[sent:], flags)


class SwitchboardGeventWorker(GeventWorker):
    """gunicorn's GeventWorker whose plain TCP connections write through DirectSendSocket."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        """Serve one connection."""
        if type(client) is gevent_socket.socket:
            client.__class__ = DirectSendSocket
        super().handle(listener, client, addr)
