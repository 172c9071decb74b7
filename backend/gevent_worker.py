"""gunicorn's gevent worker, with four changes.

A response write tries the socket's own non-blocking send first. gevent's `sendall` asks the kernel for the send
buffer size (a `getsockopt` system call) and slices the data through a Python loop on every call, even when the
whole chunk fits at once, which for a streamed token it always does. Measured with bench/streams.py at 1,000 streams
(docs/serving.md), that was about 8% of a worker's CPU. Here the chunk goes out with one `send`; only what the
kernel did not take (a slow reader, a full buffer) waits cooperatively for the socket to take more. TLS sockets are
left alone.

That wait is bounded: a client that takes nothing of a write for SWITCHBOARD_CLIENT_SEND_TIMEOUT_SECONDS (it stopped
reading but keeps its socket open) ends its response as a client that left does. gunicorn's worker makes client
sockets blocking, and a blocked gevent send waits forever: the greenlet, the provider call and the budget hold of a
stream stayed held until the provider's own timeouts, and the run was never settled.

A response's head goes out with its first body bytes, in one send (gunicorn sends the head on its own first). For
a JSON answer that is one system call instead of two, and one wake-up of the client instead of two.

And a worker holding more connections than its share steps back before accepting another, so that keep-alive
connections spread over the workers (backend/connection_balance.py).
"""

from __future__ import annotations

import logging
import socket
import struct
from typing import Any

from gevent import socket as gevent_socket
from gevent.server import StreamServer
from gunicorn.http import wsgi
from gunicorn.workers import ggevent
from gunicorn.workers.ggevent import GeventWorker

from backend.config import DEFAULTS
from backend.connection_balance import DEFER_SECONDS, ConnectionBalance

log = logging.getLogger(__name__)
SEND_TIMEOUT_SETTING = "CLIENT_SEND_TIMEOUT_SECONDS"
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() resets instead of holding unsent bytes


class ClientStalled(TimeoutError):
    """The client took nothing of a response write for the send timeout: it stopped reading."""


class DirectSendSocket(gevent_socket.socket):
    """A gevent socket whose sendall starts with a plain non-blocking send and never waits longer than
    `send_timeout` seconds for the client to take more (None: as long as it takes)."""

    __slots__ = ()
    send_timeout: float | None = None  # set for its process by SwitchboardGeventWorker.run from the app's setting

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send everything: one direct send, then cooperative waits for the socket to take the rest."""
        try:
            sent = self._sock.send(data, flags)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            self._send_rest(memoryview(data)[sent:], flags)

    def _send_rest(self, rest: memoryview, flags: int) -> None:
        """What the kernel did not take at once, as it takes it; ClientStalled when it took nothing for send_timeout
        seconds (each wait is bounded, not the whole write: a large answer to a slow reader keeps going)."""
        stalled = ClientStalled(f"the client took nothing for {self.send_timeout} s")
        while rest:
            gevent_socket.wait_write(self.fileno(), timeout=self.send_timeout, timeout_exc=stalled)
            try:
                rest = rest[self._sock.send(rest, flags) :]
            except BlockingIOError:  # woken without room after all: wait again
                continue


def send_timeout_of(app: Any) -> float:
    """The app's SWITCHBOARD_CLIENT_SEND_TIMEOUT_SECONDS (its default for an app without a Flask config)."""
    config = getattr(app, "config", None) or {}
    return float(config.get(SEND_TIMEOUT_SETTING) or DEFAULTS[SEND_TIMEOUT_SETTING])


class HeadWithBodyResponse(wsgi.Response):
    """gunicorn's response whose head is held until the first body bytes, then sent with them in one write.

    Every path that puts bytes on the socket sends the held head first: a body write, a file sent with sendfile,
    and the end of the response (an empty body, a chunked terminator). Nothing is held across a wait for the app:
    gunicorn sends the head only when the first body bytes (or the end) are ready anyway.
    """

    held_head = b""

    def send_headers(self) -> None:
        """Build the head as gunicorn does, and hold it."""
        if self.headers_sent:
            return
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        self.held_head = ("".join(lines) + "\r\n").encode("latin-1")
        self.headers_sent = True

    def take_head(self) -> bytes:
        """The held head (empty once sent)."""
        head, self.held_head = self.held_head, b""
        return head

    def send_held_head(self) -> None:
        """Send the head now, if it is still held."""
        head = self.take_head()
        if head:
            self.sock.sendall(head)

    def write(self, arg: bytes) -> None:
        """gunicorn's write; an empty write sends the held head at once (an app may yield b"" to send its head before
        its first real chunk, which gunicorn's own write does for it)."""
        super().write(arg)
        if not arg and not self._omits_body:
            self.send_held_head()

    def _emit_body(self, data: bytes) -> None:
        """Body bytes, framed as a chunk when chunked, after the held head, in one write."""
        if self.chunked:
            data = b"%X\r\n%s\r\n" % (len(data), data)
        self.sock.sendall(self.take_head() + data)

    def sendfile(self, respiter: Any) -> bool:
        """gunicorn's sendfile, after the head (sendfile writes to the socket below us)."""
        self.send_headers()
        self.send_held_head()
        return super().sendfile(respiter)

    def close(self) -> None:
        """The end of the response: the held head, if no body was written, and the chunked terminator."""
        self.send_headers()
        end = self.take_head() + (b"0\r\n\r\n" if self.chunked else b"")
        if end:
            self.sock.sendall(end)


class BalancedStreamServer(StreamServer):
    """gevent's StreamServer that, while its worker holds more than its share of connections, leaves a waiting
    connection to the other workers for DEFER_SECONDS, then takes it if it is still waiting."""

    balance: ConnectionBalance | None = None
    slot: int | None = None
    _deferred = False  # the last wake-up was deferred: take the next connection whatever the counts say

    def _do_read(self) -> None:
        """Accept (gevent's own loop), unless this worker should step back first."""
        if self.balance is not None and self.slot is not None and not self._deferred:
            if self.balance.over_share(self.slot):
                self._deferred = True
                self.stop_accepting()
                self._timer = self.loop.timer(DEFER_SECONDS)
                self._timer.start(self._start_accepting_if_started)
                return
        self._deferred = False
        super()._do_read()


class SwitchboardGeventWorker(GeventWorker):
    """gunicorn's GeventWorker whose plain TCP connections write through DirectSendSocket, whose responses send their
    head with the body (HeadWithBodyResponse) and whose servers accept through BalancedStreamServer (the slot and
    shared counts come from the master: backend/gunicorn_conf.py)."""

    switchboard_balance: ConnectionBalance | None = None
    switchboard_slot: int | None = None

    def run(self) -> None:
        """gunicorn's loop, its StreamServers balanced when there are several workers."""
        wsgi.Response = HeadWithBodyResponse  # gunicorn's wsgi.create builds responses by this name, in this process
        DirectSendSocket.send_timeout = send_timeout_of(self.wsgi)
        if self.switchboard_balance is not None and self.switchboard_slot is not None and self.cfg.workers > 1:
            BalancedStreamServer.balance, BalancedStreamServer.slot = self.switchboard_balance, self.switchboard_slot
            ggevent.StreamServer = BalancedStreamServer  # gunicorn builds its servers by this name, in this process
        super().run()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        """Serve one connection, counted as open while it lasts."""
        if type(client) is gevent_socket.socket:
            client.__class__ = DirectSendSocket
        balance, slot = self.switchboard_balance, self.switchboard_slot
        if balance is None or slot is None:
            super().handle(listener, client, addr)
            return
        balance.opened(slot)
        try:
            super().handle(listener, client, addr)
        finally:
            balance.closed(slot)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> bool:
        """gunicorn's request handling; a client that stopped reading ends like one that left. gunicorn has closed
        the response body by then (the stream cancels its provider call and settles the run); the connection is
        reset rather than closed, so the kernel does not keep trying to deliver what the client will never read."""
        try:
            return super().handle_request(listener_name, req, sock, addr)
        except ClientStalled:
            log.warning("response ended: the client took nothing for %s s", DirectSendSocket.send_timeout)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
            raise StopIteration from None  # gunicorn's way to end a connection quietly (AsyncWorker.handle)
