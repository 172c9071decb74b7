"""psycopg2 in a gevent worker: wait for PostgreSQL cooperatively, and give up a connect at its connect_timeout.

With a wait callback installed, psycopg2 connects and queries asynchronously and hands every wait to the callback,
so a query no longer freezes every request and stream of the worker. libpq's own `connect_timeout` only bounds its
blocking connect, though: psycogreen's callback waited for the server's first answer without limit, so a database
host that accepts TCP and then says nothing (a hung server, a half-open partition) held each request that needed a
new connection forever. This callback keeps the connection's `connect_timeout` (backend/database.py sets 10 s unless
the URL says otherwise) for the whole connect, as libpq would; waits of a connected session are not limited here
(keepalives and tcp_user_timeout notice a dead peer: backend/database.py).
"""

from __future__ import annotations

import time

from gevent.socket import wait_read, wait_write
from psycopg2 import OperationalError, extensions

# A connection in any other status is still connecting (psycopg2's SETUP, and its internal CONNECTING and DATESTYLE).
_CONNECTED = frozenset({extensions.STATUS_READY, extensions.STATUS_BEGIN, extensions.STATUS_PREPARED})
_LIBPQ_MIN_CONNECT_TIMEOUT = 2  # libpq reads 1 as 2 seconds


def patch_psycopg() -> None:
    """Make every psycopg2 connection of this process wait through gevent."""
    extensions.set_wait_callback(wait_cooperatively)


def wait_cooperatively(connection) -> None:
    """psycopg2's wait callback: poll the connection, yielding to other greenlets while its socket is not ready; a
    connect that outlives its connect_timeout fails like libpq's own ("timeout expired")."""
    deadline = connect_deadline(connection)
    while True:
        state = connection.poll()
        if state == extensions.POLL_OK:
            return
        if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
            raise OperationalError(f"bad result from poll: {state!r}")
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise OperationalError("timeout expired")
        wait = wait_read if state == extensions.POLL_READ else wait_write
        try:
            wait(connection.fileno(), timeout=remaining)
        except TimeoutError:  # gevent's socket.timeout
            raise OperationalError("timeout expired") from None


def connect_deadline(connection) -> float | None:
    """When a connection still connecting must give up (monotonic clock), from its DSN's connect_timeout; None for a
    connected one, or when no timeout is set (libpq: 0 or absent waits indefinitely)."""
    if connection.status in _CONNECTED:
        return None
    try:
        seconds = int(extensions.parse_dsn(connection.dsn).get("connect_timeout") or 0)
    except (ValueError, extensions.ProgrammingError):
        return None
    if seconds <= 0:
        return None
    return time.monotonic() + max(seconds, _LIBPQ_MIN_CONNECT_TIMEOUT)
